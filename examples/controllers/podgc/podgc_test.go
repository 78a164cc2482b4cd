package podgc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/podgc"
	"github.com/setpoint-dev/setpoint/store"
)

func newPod(t *testing.T, cs *client.Clientset, name, node string, phase api.PodPhase) {
	t.Helper()
	ctx := context.Background()
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.NodeName = node
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	out, err := cs.Pods().Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if phase != "" {
		out.Status.Phase = phase
		if _, err := cs.Pods().UpdateStatus(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCollect: terminated pods over the threshold go, oldest first; a pod
// on a node that does not exist goes; running pods on live nodes stay.
func TestCollect(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	node := &api.Node{}
	node.Name = "n1"
	if _, err := cs.Nodes().Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		phase := api.PodSucceeded
		if i%2 == 1 {
			phase = api.PodFailed
		}
		newPod(t, cs, fmt.Sprintf("done-%d", i), "n1", phase)
	}
	newPod(t, cs, "running", "n1", api.PodRunning)
	newPod(t, cs, "orphan", "ghost", api.PodRunning)
	newPod(t, cs, "unbound", "", "")

	clock := clockwork.NewFakeClock()
	gc, err := podgc.New(podgc.Config{Client: cs, TerminatedPodThreshold: 2, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "podgc", gc.Run)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := clock.BlockUntilContext(wctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(podgc.DefaultPeriod)
	want := map[string]bool{"done-2": true, "done-3": true, "running": true, "unbound": true}
	controllertest.Eventually(t, "collected", func() error {
		l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, p := range l.Items {
			got[p.Name] = true
		}
		if len(got) != len(want) {
			return fmt.Errorf("pods %v, want %v", got, want)
		}
		for n := range want {
			if !got[n] {
				return fmt.Errorf("pods %v, want %v", got, want)
			}
		}
		return nil
	})
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []podgc.Config{{}, {Client: &client.Clientset{}, Period: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := podgc.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
