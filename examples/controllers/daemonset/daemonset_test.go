package daemonset_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/daemonset"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// bindByAffinity plays the scheduler's part for daemon pods: it binds each
// unbound pod to the one node its required affinity names (by
// metadata.name), as the scheduler would.
func bindByAffinity(ctx context.Context, cs *client.Clientset) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		l, err := cs.Pods().List(ctx, "", store.ListOptions{})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, p := range l.Items {
			a := p.Spec.Affinity
			if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				continue
			}
			node := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0]
			b := api.Binding{TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Binding"},
				ObjectMeta: store.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID},
				Target:     api.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node}}
			if err := cs.Pods().Call(ctx, "POST", p.Namespace, p.Name, "binding", nil, &b, nil); err != nil && ctx.Err() == nil &&
				!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("bind %s to %s: %w", p.Name, node, err)
			}
		}
	}
}

func node(name string, labels map[string]string, taints ...api.Taint) *api.Node {
	n := &api.Node{}
	n.Name, n.Labels = name, labels
	n.Spec.Taints = taints
	return n
}

func newDS(name string) *apps.DaemonSet {
	ds := &apps.DaemonSet{}
	ds.Namespace, ds.Name = "default", name
	ds.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	ds.Spec.Template.Labels = map[string]string{"app": name}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"role": "worker"}
	ds.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "agent:1"}}
	return ds
}

// podNodes maps node name to the set's live pods there.
func podNodes(ctx context.Context, cs *client.Clientset) (map[string][]*api.Pod, error) {
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string][]*api.Pod{}
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out, nil
}

func onNodes(ctx context.Context, cs *client.Clientset, want ...string) func() error {
	return func() error {
		m, err := podNodes(ctx, cs)
		if err != nil {
			return err
		}
		if len(m) != len(want) {
			return fmt.Errorf("pods on %d nodes, want %v", len(m), want)
		}
		for _, n := range want {
			if len(m[n]) != 1 {
				return fmt.Errorf("%d pods on %s", len(m[n]), n)
			}
		}
		return nil
	}
}

// TestPlacementAndRollingUpdate: one pod per eligible node (node selector;
// the unschedulable taint is tolerated automatically, a foreign taint is
// not); a matching node added later gets a pod, a node that stops matching
// loses it; a rolling update with maxUnavailable 1 never leaves more than
// one eligible node without a Ready pod; kubectl rollout status, history
// and undo work.
func TestPlacementAndRollingUpdate(t *testing.T) {
	ctx := context.Background()
	srv := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, srv)
	for _, n := range []*api.Node{
		node("n1", map[string]string{"role": "worker"}),
		node("n2", map[string]string{"role": "worker"}, api.Taint{Key: daemonset.TaintNodeUnschedulable, Effect: api.TaintEffectNoSchedule}),
		node("n3", map[string]string{"role": "worker"}, api.Taint{Key: "dedicated", Value: "db", Effect: api.TaintEffectNoSchedule}),
		node("n4", nil),
	} {
		if _, err := cs.Nodes().Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	c, err := daemonset.New(daemonset.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "daemonset controller", c.Run)
	controllertest.Go(t, "binder", func(ctx context.Context) error { return bindByAffinity(ctx, cs) })
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1", "n2", "n3", "n4"}}).Start(t)

	if _, err := cs.DaemonSets().Create(ctx, newDS("agent")); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "pods on n1 and n2", onNodes(ctx, cs, "n1", "n2"))
	m, _ := podNodes(ctx, cs)
	p := m["n1"][0]
	if !hasToleration(p, daemonset.TaintNodeNotReady, api.TaintEffectNoExecute) || !hasToleration(p, daemonset.TaintNodeUnreachable, api.TaintEffectNoExecute) ||
		!hasToleration(p, daemonset.TaintNodeDiskPressure, api.TaintEffectNoSchedule) {
		t.Errorf("pod tolerations %+v", p.Spec.Tolerations)
	}

	// A node added later.
	if _, err := cs.Nodes().Create(ctx, node("n5", map[string]string{"role": "worker"})); err != nil {
		t.Fatal(err)
	}
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n5"}}).Start(t)
	controllertest.Eventually(t, "pod on n5", onNodes(ctx, cs, "n1", "n2", "n5"))
	// A node that stops matching.
	n1, _ := cs.Nodes().Get(ctx, "", "n1")
	n1.Labels = nil
	if _, err := cs.Nodes().Update(ctx, n1); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "pod gone from n1", onNodes(ctx, cs, "n2", "n5"))
	ds := waitDS(t, cs, "2 ready", func(ds *apps.DaemonSet) bool {
		s := ds.Status
		return s.DesiredNumberScheduled == 2 && s.NumberReady == 2 && s.NumberAvailable == 2 && s.UpdatedNumberScheduled == 2 && s.NumberMisscheduled == 0
	})

	// Rolling update: at every pod event at least desired-1 nodes keep a
	// Ready pod.
	var mu sync.Mutex
	var violation string
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: mustRev(t, ds.ResourceVersion)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	readyOn := map[string]map[string]bool{} // node -> pod -> ready
	for n, ps := range mustPods(t, ctx, cs) {
		readyOn[n] = map[string]bool{}
		for _, p := range ps {
			readyOn[n][p.Name] = controllerutil.IsPodReady(p)
		}
	}
	go func() {
		for ev := range w.Events() {
			p := ev.Object
			if p.Spec.NodeName == "" {
				continue
			}
			mu.Lock()
			if readyOn[p.Spec.NodeName] == nil {
				readyOn[p.Spec.NodeName] = map[string]bool{}
			}
			readyOn[p.Spec.NodeName][p.Name] = ev.Type != watch.Deleted && p.DeletionTimestamp == nil && controllerutil.IsPodReady(p)
			up := 0
			for _, n := range []string{"n2", "n5"} {
				for _, r := range readyOn[n] {
					if r {
						up++
						break
					}
				}
			}
			if up < 1 && violation == "" {
				violation = fmt.Sprintf("%d of 2 nodes with a Ready pod after %s %s", up, ev.Type, p.Name)
			}
			mu.Unlock()
		}
	}()
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	if _, err := cs.DaemonSets().Update(ctx, ds); err != nil {
		t.Fatal(err)
	}
	controllertest.Kubectl(t, srv, "rollout", "status", "daemonset/agent", "--timeout=60s")
	waitDS(t, cs, "updated", func(ds *apps.DaemonSet) bool {
		return ds.Status.UpdatedNumberScheduled == 2 && ds.Status.NumberAvailable == 2
	})
	mu.Lock()
	if violation != "" {
		t.Errorf("maxUnavailable 1 broken: %s", violation)
	}
	mu.Unlock()
	if out := controllertest.Kubectl(t, srv, "rollout", "history", "daemonset/agent"); !strings.Contains(out, "2") {
		t.Errorf("rollout history:\n%s", out)
	}
	controllertest.Kubectl(t, srv, "rollout", "undo", "daemonset/agent")
	controllertest.Eventually(t, "rolled back to agent:1", func() error {
		m, err := podNodes(ctx, cs)
		if err != nil {
			return err
		}
		for _, n := range []string{"n2", "n5"} {
			if len(m[n]) != 1 || m[n][0].Spec.Containers[0].Image != "agent:1" {
				return fmt.Errorf("%s: %d pods", n, len(m[n]))
			}
		}
		return nil
	})
}

func mustRev(t *testing.T, rv string) int64 {
	r, err := store.ParseRevision(rv)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPods(t *testing.T, ctx context.Context, cs *client.Clientset) map[string][]*api.Pod {
	m, err := podNodes(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hasToleration(p *api.Pod, key string, effect api.TaintEffect) bool {
	for _, t := range p.Spec.Tolerations {
		if t.Key == key && t.Effect == effect && t.Operator == api.TolerationOpExists {
			return true
		}
	}
	return false
}

func waitDS(t *testing.T, cs *client.Clientset, what string, ok func(*apps.DaemonSet) bool) *apps.DaemonSet {
	t.Helper()
	var cur *apps.DaemonSet
	controllertest.Eventually(t, what, func() error {
		var err error
		if cur, err = cs.DaemonSets().Get(context.Background(), "default", "agent"); err != nil {
			return err
		}
		if cur.Status.ObservedGeneration != cur.Generation || !ok(cur) {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	return cur
}

// TestInvalidDaemonSet: a selector that does not match the template is
// refused with 422 naming the field; nothing is stored.
func TestInvalidDaemonSet(t *testing.T) {
	ctx := context.Background()
	srv := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, srv)
	ds := newDS("bad")
	ds.Spec.Template.Labels = map[string]string{"app": "other"}
	_, err := cs.DaemonSets().Create(ctx, ds)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.template.metadata.labels") {
		t.Fatalf("create: %v, want 422 naming spec.template.metadata.labels", err)
	}
	if l, _ := cs.DaemonSets().List(ctx, "default", store.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d daemon sets stored", len(l.Items))
	}
}
