package offers_test

import (
	"context"
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/store"
)

// A tiny batch framework: five one-CPU tasks packed onto what it is
// offered, on two nodes of two CPUs. Its tasks finish at once here (the
// launcher runs in process), so their resources return for the next cycle.
func ExampleDriver() {
	a, _ := offers.New(offers.Config{Clock: clockwork.NewFakeClock()})
	cpu := func(n string) api.ResourceList { return api.ResourceList{api.ResourceCPU: api.MustParse(n)} }
	_ = a.SetNode("n1", cpu("2"))
	_ = a.SetNode("n2", cpu("2"))
	launcher := offers.LauncherFunc(func(ctx context.Context, node string, t offers.Task, report func(offers.TaskState, string)) error {
		report(offers.TaskRunning, "")
		report(offers.TaskFinished, "")
		return nil
	})
	fw := &offersapi.Framework{ObjectMeta: store.ObjectMeta{Name: "batch"}, Spec: offersapi.FrameworkSpec{TaskResources: cpu("1")}}
	d, _ := offers.NewDriver(a, fw, launcher)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	<-d.Ready()

	todo := 5
	for todo > 0 {
		for range a.Cycle().Offers() {
			o := <-d.Offers()
			var tasks []offers.Task
			for free := o.Spec.Resources[api.ResourceCPU]; todo > 0 && free.Cmp(api.MustParse("1")) >= 0; todo-- {
				tasks = append(tasks, offers.Task{Name: fmt.Sprintf("t%d", 5-todo), Resources: cpu("1")})
				free = free.Sub(api.MustParse("1"))
			}
			if len(tasks) == 0 {
				_ = d.Decline(o, 0)
				continue
			}
			if err := d.Accept(o, tasks); err != nil {
				fmt.Println(err)
			}
		}
	}
	for finished := 0; finished < 5; {
		s := <-d.Statuses()
		if s.State == offers.TaskFinished {
			fmt.Println(s.Task, "on", s.Node, s.State)
			finished++
		}
	}
	cancel()
	<-done
	// Output:
	// t0 on n1 Finished
	// t1 on n1 Finished
	// t2 on n2 Finished
	// t3 on n2 Finished
	// t4 on n1 Finished
}
