package garbagecollector_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/store"
)

// family is a deployment d with two replica sets: "blocking" (its
// reference blocks owner deletion) and "loose", and a pod of "blocking"
// (also blocking) that holds a finalizer of its own.
type family struct {
	d               *apps.Deployment
	blocking, loose *apps.ReplicaSet
	pod             *api.Pod
}

func makeFamily(t *testing.T, cs *client.Clientset, name string) family {
	t.Helper()
	ctx := context.Background()
	yes, no := true, false
	d, err := cs.Deployments().Create(ctx, newDeployment(name))
	if err != nil {
		t.Fatal(err)
	}
	ref := func(o store.Object, apiVersion, kind string, block *bool) store.OwnerReference {
		m := o.GetObjectMeta()
		return store.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: m.Name, UID: m.UID, BlockOwnerDeletion: block}
	}
	rs := func(suffix string, block *bool) *apps.ReplicaSet {
		r := &apps.ReplicaSet{}
		r.Namespace, r.Name = "default", name+"-"+suffix
		r.OwnerReferences = []store.OwnerReference{ref(d, "apps/v1", "Deployment", block)}
		zero := int32(0)
		r.Spec.Replicas = &zero
		r.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"rs": r.Name}}
		r.Spec.Template.Labels = map[string]string{"rs": r.Name}
		r.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
		out, err := cs.ReplicaSets().Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	f := family{d: d, blocking: rs("blocking", &yes), loose: rs("loose", &no)}
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name+"-pod"
	p.Finalizers = []string{"example.com/hold"}
	p.OwnerReferences = []store.OwnerReference{ref(f.blocking, "apps/v1", "ReplicaSet", &yes)}
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if f.pod, err = cs.Pods().Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	return f
}

func gone[T store.Object](c interface {
	Get(context.Context, string, string) (T, error)
}, name string) func() error {
	return func() error {
		_, err := c.Get(context.Background(), "default", name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%s still exists", name)
	}
}

// TestForegroundDeletion: kubectl delete --cascade=foreground keeps the
// deployment (with foregroundDeletion) until every blocking dependent is
// gone: the loose replica set goes at once, the blocking one waits in the
// foreground for its pod, which waits for its own finalizer; once that is
// removed, the pod, its replica set and the deployment go, in that order.
func TestForegroundDeletion(t *testing.T) {
	s, cs := env(t, 2, false)
	ctx := context.Background()
	f := makeFamily(t, cs, "fg")
	controllertest.Kubectl(t, s, "delete", "deployment", "fg", "--cascade=foreground", "--wait=false")

	controllertest.Eventually(t, "the loose replica set deleted", gone[*apps.ReplicaSet](cs.ReplicaSets(), f.loose.Name))
	controllertest.Eventually(t, "the pod marked for deletion", func() error {
		p, err := cs.Pods().Get(ctx, "default", f.pod.Name)
		if err != nil {
			return err
		}
		if p.DeletionTimestamp == nil {
			return errors.New("not marked")
		}
		return nil
	})
	// The pod is held by its own finalizer: its replica set and the
	// deployment wait, marked, with foregroundDeletion.
	for _, o := range []interface {
		get() (store.Object, error)
	}{getter(func() (store.Object, error) { return cs.ReplicaSets().Get(ctx, "default", f.blocking.Name) }),
		getter(func() (store.Object, error) { return cs.Deployments().Get(ctx, "default", "fg") })} {
		obj, err := o.get()
		if err != nil {
			t.Fatalf("an owner of a held blocking dependent is gone: %v", err)
		}
		m := obj.GetObjectMeta()
		if m.DeletionTimestamp == nil || !slices.Contains(m.Finalizers, store.FinalizerDeleteDependents) {
			t.Fatalf("%s: deletionTimestamp %v finalizers %q; want marked with foregroundDeletion", m.Name, m.DeletionTimestamp, m.Finalizers)
		}
	}
	// The collector writes the pod too (it is deleted in the foreground):
	// retry on conflicts.
	controllertest.Eventually(t, "the pod's own finalizer removed", func() error {
		p, err := cs.Pods().Get(ctx, "default", f.pod.Name)
		if err != nil {
			return err
		}
		p.Finalizers = slices.DeleteFunc(p.Finalizers, func(s string) bool { return s == "example.com/hold" })
		_, err = cs.Pods().Update(ctx, p)
		return err
	})
	// The pod is graceful: end it as a kubelet would.
	if err := cs.Pods().DeleteNow(ctx, "default", f.pod.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the pod gone", gone[*api.Pod](cs.Pods(), f.pod.Name))
	controllertest.Eventually(t, "the blocking replica set gone", gone[*apps.ReplicaSet](cs.ReplicaSets(), f.blocking.Name))
	controllertest.Eventually(t, "the deployment gone", gone[*apps.Deployment](cs.Deployments(), "fg"))
}

type getter func() (store.Object, error)

func (g getter) get() (store.Object, error) { return g() }

// TestOrphanDeletion: kubectl delete --cascade=orphan removes the
// deployment and leaves its replica sets, without the reference to it.
func TestOrphanDeletion(t *testing.T) {
	s, cs := env(t, 2, false)
	ctx := context.Background()
	f := makeFamily(t, cs, "or")
	controllertest.Kubectl(t, s, "delete", "deployment", "or", "--cascade=orphan", "--wait=false")
	controllertest.Eventually(t, "the deployment gone", gone[*apps.Deployment](cs.Deployments(), "or"))
	for _, name := range []string{f.blocking.Name, f.loose.Name} {
		rs, err := cs.ReplicaSets().Get(ctx, "default", name)
		if err != nil {
			t.Fatalf("orphaned replica set %s: %v", name, err)
		}
		if len(rs.OwnerReferences) != 0 || rs.DeletionTimestamp != nil {
			t.Fatalf("orphaned replica set %s: owners %+v, deletionTimestamp %v", name, rs.OwnerReferences, rs.DeletionTimestamp)
		}
	}
	// The pod keeps its own owner, which still exists.
	p, err := cs.Pods().Get(ctx, "default", f.pod.Name)
	if err != nil || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != f.blocking.UID {
		t.Fatalf("pod: %+v, %v", p, err)
	}
}
