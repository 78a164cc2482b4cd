package replicaset_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
)

// env is a running apiserver, a replica set controller and a node
// stand-in that makes pods on node "n1" Running and Ready.
func env(t *testing.T) *client.Clientset {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	rec, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cs.Events(), Component: "replicaset-controller"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := replicaset.New(replicaset.Config{Client: cs, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "recorder", rec.Run)
	controllertest.Go(t, "replicaset controller", c.Run)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	return cs
}

func newRS(name string, replicas int32, labels map[string]string) *apps.ReplicaSet {
	rs := &apps.ReplicaSet{}
	rs.Namespace, rs.Name = "default", name
	rs.Spec.Replicas = &replicas
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: labels}
	rs.Spec.Template.Labels = labels
	rs.Spec.Template.Spec.NodeName = "n1"
	rs.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	return rs
}

// owned lists the active pods rs controls.
func owned(ctx context.Context, cs *client.Clientset, rs *apps.ReplicaSet) ([]*api.Pod, error) {
	l, err := cs.Pods().List(ctx, rs.Namespace, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*api.Pod
	for _, p := range l.Items {
		if ref := p.ControllerOf(); ref != nil && ref.UID == rs.UID && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// settled waits until rs has want controlled pods and a status that says
// so for its current generation.
func settled(t *testing.T, cs *client.Clientset, rs *apps.ReplicaSet, want int32) *apps.ReplicaSet {
	t.Helper()
	ctx := context.Background()
	var cur *apps.ReplicaSet
	controllertest.Eventually(t, fmt.Sprintf("%s has %d ready pods", rs.Name, want), func() error {
		pods, err := owned(ctx, cs, rs)
		if err != nil {
			return err
		}
		if len(pods) != int(want) {
			return fmt.Errorf("%d pods", len(pods))
		}
		if cur, err = cs.ReplicaSets().Get(ctx, rs.Namespace, rs.Name); err != nil {
			return err
		}
		st := cur.Status
		if st.ObservedGeneration != cur.Generation || st.Replicas != want || st.ReadyReplicas != want ||
			st.AvailableReplicas != want || st.FullyLabeledReplicas != want {
			return fmt.Errorf("status %+v at generation %d", st, cur.Generation)
		}
		return nil
	})
	return cur
}

// TestScale: the controller creates pods up to replicas, each with a
// controller reference and the template's labels, reports the status,
// and deletes pods on scale-down.
func TestScale(t *testing.T) {
	cs := env(t)
	ctx := context.Background()
	rs, err := cs.ReplicaSets().Create(ctx, newRS("web", 3, map[string]string{"app": "web"}))
	if err != nil {
		t.Fatal(err)
	}
	settled(t, cs, rs, 3)
	pods, _ := owned(ctx, cs, rs)
	for _, p := range pods {
		ref := p.ControllerOf()
		if p.Labels["app"] != "web" || ref.Kind != "ReplicaSet" || ref.Name != "web" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion || p.GenerateName != "web-" {
			t.Errorf("pod %s: labels %v, ref %+v, generateName %q", p.Name, p.Labels, ref, p.GenerateName)
		}
	}
	if _, err := cs.ReplicaSets().GuaranteedUpdate(ctx, "default", "web", func(r *apps.ReplicaSet) (*apps.ReplicaSet, error) {
		r.Spec.Replicas = ptr(int32(1))
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	settled(t, cs, rs, 1)
	controllertest.Eventually(t, "events", func() error {
		evs, err := cs.Events().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return err
		}
		n := map[string]int{}
		for _, e := range evs.Items {
			if e.InvolvedObject.UID == rs.UID {
				n[e.Reason] += int(max(e.Count, 1))
			}
		}
		if n[replicaset.ReasonSuccessfulCreate] != 3 || n[replicaset.ReasonSuccessfulDelete] != 2 {
			return fmt.Errorf("events by reason %v, want 3 creates and 2 deletes", n)
		}
		return nil
	})
}

// TestAdoptAndRelease: an orphan that matches is adopted (and counts), a
// pod whose labels stop matching is released and replaced, and a pod
// controlled by someone else is left alone.
func TestAdoptAndRelease(t *testing.T) {
	cs := env(t)
	ctx := context.Background()
	orphan := &api.Pod{}
	orphan.Namespace, orphan.Name = "default", "orphan"
	orphan.Labels = map[string]string{"app": "db"}
	orphan.Spec.NodeName = "n1"
	orphan.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := cs.Pods().Create(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	other := orphan.DeepCopy()
	other.Name = "other"
	other.OwnerReferences = []store.OwnerReference{{APIVersion: "v1", Kind: "ReplicationController", Name: "x", UID: "0000-other", Controller: ptr(true)}}
	if _, err := cs.Pods().Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	rs, err := cs.ReplicaSets().Create(ctx, newRS("db", 2, map[string]string{"app": "db"}))
	if err != nil {
		t.Fatal(err)
	}
	settled(t, cs, rs, 2)
	got, err := cs.Pods().Get(ctx, "default", "orphan")
	if err != nil {
		t.Fatal(err)
	}
	if ref := got.ControllerOf(); ref == nil || ref.UID != rs.UID {
		t.Fatalf("orphan not adopted: %+v", got.OwnerReferences)
	}
	if got, err := cs.Pods().Get(ctx, "default", "other"); err != nil || got.ControllerOf().UID != "0000-other" {
		t.Fatalf("pod of another controller changed: %v %+v", err, got)
	}
	// Relabel the adopted pod: it is released and replaced.
	if _, err := cs.Pods().GuaranteedUpdate(ctx, "default", "orphan", func(p *api.Pod) (*api.Pod, error) {
		p.Labels = map[string]string{"app": "gone"}
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
	settled(t, cs, rs, 2)
	controllertest.Eventually(t, "release", func() error {
		got, err := cs.Pods().Get(ctx, "default", "orphan")
		if err != nil {
			return err
		}
		if len(got.OwnerReferences) != 0 {
			return fmt.Errorf("still owned: %+v", got.OwnerReferences)
		}
		return nil
	})
}

// TestBadSelector: a replica set whose selector does not match its
// template is refused (422) and nothing is created.
func TestBadSelector(t *testing.T) {
	cs := env(t)
	ctx := context.Background()
	rs := newRS("bad", 2, map[string]string{"app": "a"})
	rs.Spec.Template.Labels = map[string]string{"app": "b"}
	_, err := cs.ReplicaSets().Create(ctx, rs)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("create: %v, want ErrInvalid", err)
	}
	if _, err := cs.ReplicaSets().Get(ctx, "default", "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get: %v, want not found", err)
	}
	pods, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods: %v %d", err, len(pods.Items))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []replicaset.Config{{}, {Client: &client.Clientset{}, Workers: -1}, {Client: &client.Clientset{}, BurstReplicas: -2}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := replicaset.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestReplicaFailure: when pods cannot be created (the namespace is
// terminating: 403), the replica set reports ReplicaFailure FailedCreate
// and creates nothing. (Its FailedCreate event cannot be written there
// either.)
func TestReplicaFailure(t *testing.T) {
	cs := env(t)
	ctx := context.Background()
	ns := &api.Namespace{}
	ns.Name = "doomed"
	if _, err := cs.Namespaces().Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	rs := newRS("web", 0, map[string]string{"app": "web"})
	rs.Namespace = "doomed"
	if _, err := cs.ReplicaSets().Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// No namespace controller runs: the namespace stays Terminating.
	if _, err := cs.Namespaces().Delete(ctx, "", "doomed"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ReplicaSets().GuaranteedUpdate(ctx, "doomed", "web", func(r *apps.ReplicaSet) (*apps.ReplicaSet, error) {
		r.Spec.Replicas = ptr(int32(2))
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "ReplicaFailure", func() error {
		cur, err := cs.ReplicaSets().Get(ctx, "doomed", "web")
		if err != nil {
			return err
		}
		for _, c := range cur.Status.Conditions {
			if c.Type == apps.ReplicaSetReplicaFailure && c.Status == api.ConditionTrue && c.Reason == replicaset.ReasonFailedCreate && c.Message != "" {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", cur.Status.Conditions)
	})
	pods, err := cs.Pods().List(ctx, "doomed", store.ListOptions{})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods: %v %d", err, len(pods.Items))
	}
}
