package framework_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
	"github.com/setpoint-dev/setpoint/examples/offers/framework/batch"
	"github.com/setpoint-dev/setpoint/examples/offers/framework/service"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
)

func perNode(placement map[string]string) map[string]int {
	out := map[string]int{}
	for _, n := range placement {
		out[n]++
	}
	return out
}

// TestBatchPacks: six one-CPU tasks on three four-CPU nodes, offered all
// three nodes at once, land on two nodes (4 + 2), the fewest that hold
// them, and run there.
func TestBatchPacks(t *testing.T) {
	e := startEnv(t, clockwork.NewFakeClock(), map[string]int{"n1": 4, "n2": 4, "n3": 4})
	task := res("1", "1Gi")
	d, _ := startDriver(t, e.cs, "batch", task)
	var tasks []framework.Task
	for i := range 6 {
		tasks = append(tasks, framework.Task{Name: fmt.Sprintf("job-%d", i), Resources: task})
	}
	b, err := batch.New(d, tasks)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "batch framework", func(ctx context.Context) error {
		if err := b.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	controllertest.Eventually(t, "six tasks placed", func() error {
		if p := b.Placement(); len(p) != 6 {
			return fmt.Errorf("placed %v", p)
		}
		return nil
	})
	counts := perNode(b.Placement())
	if len(counts) != 2 {
		t.Errorf("tasks per node %v, want them packed on 2 nodes", counts)
	}
	for n, c := range counts {
		if c != 4 && c != 2 {
			t.Errorf("node %s runs %d tasks, want 4 and 2", n, c)
		}
	}
	controllertest.Eventually(t, "the pods bound where placed", func() error {
		for _, p := range podsOf(t, e.cs, "batch") {
			if want := b.Placement()[p.Name]; p.Spec.NodeName != want {
				return fmt.Errorf("pod %s on %q, placed on %q", p.Name, p.Spec.NodeName, want)
			}
		}
		return nil
	})
}

// TestServiceSpreads: three replicas on three nodes run one per node,
// though each node could hold all three; a replica killed is replaced on
// the node left without one, once the allocator's clock has passed the
// service's refuse filters.
func TestServiceSpreads(t *testing.T) {
	fc := clockwork.NewFakeClock()
	e := startEnv(t, fc, map[string]int{"n1": 4, "n2": 4, "n3": 4})
	task := res("1", "1Gi")
	d, _ := startDriver(t, e.cs, "web", task)
	s, err := service.New(d, "web", 3, task)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "service framework", func(ctx context.Context) error {
		if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	spread := func() error {
		p := s.Placement()
		if len(p) != 3 {
			return fmt.Errorf("replicas %v", p)
		}
		if c := perNode(p); len(c) != 3 {
			return fmt.Errorf("replicas per node %v, want one on each of 3", c)
		}
		return nil
	}
	controllertest.Eventually(t, "three replicas spread", spread)
	controllertest.Eventually(t, "the replicas' pods bound where placed", func() error {
		for _, p := range podsOf(t, e.cs, "web") {
			if want := s.Placement()[p.Name]; p.Spec.NodeName != want {
				return fmt.Errorf("pod %s on %q, placed on %q", p.Name, p.Spec.NodeName, want)
			}
		}
		return nil
	})

	var victim, node string
	for victim, node = range s.Placement() { // any one
		break
	}
	if err := d.Kill(context.Background(), victim); err != nil {
		t.Fatal(err)
	}
	replaced := func() error {
		if err := spread(); err != nil {
			return err
		}
		p := s.Placement()
		if _, ok := p[victim]; ok {
			return fmt.Errorf("killed replica %s still placed", victim)
		}
		if perNode(p)[node] != 1 {
			return fmt.Errorf("node %s left without a replica: %v", node, p)
		}
		return nil
	}
	// Step the allocator's clock past the filters, a bounded number of
	// times (pending offers must not outlive their hour), waiting after
	// each step for the cycle's offers to be answered.
	err = errors.New("not tried")
	for i := 0; i < 30 && err != nil; i++ {
		fc.Advance(service.DefaultRefuse + time.Second)
		for w := 0; w < 30 && err != nil; w++ {
			time.Sleep(100 * time.Millisecond)
			err = replaced()
		}
	}
	if err != nil {
		t.Fatalf("the killed replica was not replaced: %v", err)
	}
	for _, p := range podsOf(t, e.cs, "web") {
		if p.Name == victim {
			t.Errorf("the killed replica's pod is still there: %s on %s", p.Name, p.Spec.NodeName)
		}
	}
}

// TestBothSchedulersNoOvercommit: the Kubernetes-style scheduler and the
// allocator with a batch framework share three four-CPU nodes, asked for
// more than they hold (six one-CPU pods and eight one-CPU tasks, created
// at once). Whatever each places, the pods bound to a node never request
// more than its allocatable, checked at every poll until the nodes are
// full.
func TestBothSchedulersNoOvercommit(t *testing.T) {
	e := startEnv(t, clockwork.NewRealClock(), map[string]int{"n1": 4, "n2": 4, "n3": 4})
	sched, err := scheduler.New(scheduler.Config{Client: e.cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "scheduler", sched.Run)
	task := res("1", "1Gi")
	d, _ := startDriver(t, e.cs, "batch", task)
	var tasks []framework.Task
	for i := range 8 {
		tasks = append(tasks, framework.Task{Name: fmt.Sprintf("job-%d", i), Resources: task})
	}
	b, err := batch.New(d, tasks)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "batch framework", func(ctx context.Context) error {
		if err := b.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	})
	for i := range 6 {
		p := &api.Pod{}
		p.Namespace, p.Name = "default", fmt.Sprintf("k8s-%d", i)
		p.Spec.Containers = []api.Container{{Name: "c", Image: "app", Resources: api.ResourceRequirements{Requests: task}}}
		if _, err := e.cs.Pods().Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	controllertest.Eventually(t, "the nodes full, none overcommitted", func() error {
		l, err := e.cs.Pods().List(context.Background(), "", store.ListOptions{})
		if err != nil {
			return err
		}
		perNode := map[string]int64{}
		var total int64
		var tasks, pods int
		for _, p := range l.Items {
			if p.Spec.NodeName == "" {
				continue
			}
			q := p.Spec.Containers[0].Resources.Requests[api.ResourceCPU]
			perNode[p.Spec.NodeName] += q.MilliValue()
			total += q.MilliValue()
			if p.Spec.SchedulerName == "batch" {
				tasks++
			} else {
				pods++
			}
		}
		for n, m := range perNode {
			if m > 4000 {
				t.Fatalf("node %s: bound pods request %dm CPU of 4000m (%v)", n, m, perNode)
			}
		}
		if total != 12000 || tasks == 0 || pods == 0 {
			return fmt.Errorf("bound %dm CPU of 12000m: %d tasks, %d pods", total, tasks, pods)
		}
		return nil
	})
}
