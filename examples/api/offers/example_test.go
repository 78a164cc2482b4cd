package offers_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// A framework registers with its role, weight and per-task demand.
func Example() {
	f := &offers.Framework{
		ObjectMeta: store.ObjectMeta{Name: "batch"},
		Spec: offers.FrameworkSpec{
			TaskResources: api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("4Gi")},
		},
	}
	f.SetDefaults()
	fmt.Println(f.Spec.Role, f.Spec.Weight, f.Validate())
	fmt.Println(offers.FrameworkResource.APIVersion, offers.FrameworkResource.Name)
	// Output:
	// * 1 <nil>
	// offers.setpoint.dev/v1alpha1 frameworks
}
