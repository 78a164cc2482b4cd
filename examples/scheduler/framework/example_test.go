package framework_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// A pod's requests as the scheduler counts them: the larger of the
// containers' sum and the largest init container.
func Example() {
	pod := &api.Pod{Spec: api.PodSpec{
		InitContainers: []api.Container{{Name: "init", Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("2")}}}},
		Containers:     []api.Container{{Name: "app", Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("500m")}}}},
	}}
	r := framework.PodRequests(pod, false)
	fmt.Println(r.MilliCPU)
	// Output: 2000
}
