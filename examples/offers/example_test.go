package offers_test

import (
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// The DRF paper's example: one node of <9 CPU, 18 GiB>; framework a runs
// tasks of <1 CPU, 4 GiB>, b tasks of <3 CPU, 1 GiB>. One cycle offers a
// 3 tasks and b 2, equalizing their dominant shares at 2/3.
func Example() {
	a, err := offers.New(offers.Config{Clock: clockwork.NewFakeClock()})
	if err != nil {
		panic(err)
	}
	res := func(cpu, mem string) api.ResourceList {
		return api.ResourceList{api.ResourceCPU: api.MustParse(cpu), api.ResourceMemory: api.MustParse(mem)}
	}
	_ = a.SetNode("n1", res("9", "18Gi"))
	for name, task := range map[string]api.ResourceList{"a": res("1", "4Gi"), "b": res("3", "1Gi")} {
		_ = a.Register(&offersapi.Framework{ObjectMeta: store.ObjectMeta{Name: name}, Spec: offersapi.FrameworkSpec{TaskResources: task}})
	}
	for _, o := range a.Cycle().Offers() {
		cpu, mem := o.Spec.Resources[api.ResourceCPU], o.Spec.Resources[api.ResourceMemory]
		fmt.Printf("%s to %s: cpu %s memory %s\n", o.Name, o.Spec.Framework, cpu.String(), mem.String())
		if err := a.Accept(o.Spec.Framework, o.Name, []api.ResourceList{o.Spec.Resources}); err != nil {
			panic(err)
		}
	}
	st, _ := a.Status("a")
	fmt.Println("a's dominant share:", st.DominantShare)
	// Output:
	// o-1 to a: cpu 3 memory 12Gi
	// o-2 to b: cpu 6 memory 2Gi
	// a's dominant share: 0.6667
}
