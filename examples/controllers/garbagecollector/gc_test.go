package garbagecollector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
	"github.com/setpoint-dev/setpoint/examples/controllers/garbagecollector"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
)

func env(t *testing.T, workers int, workloads bool) (*apiserver.Server, *client.Clientset) {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	gc, err := garbagecollector.New(garbagecollector.Config{Client: cs, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if workloads {
		rsc, err := replicaset.New(replicaset.Config{Client: cs})
		if err != nil {
			t.Fatal(err)
		}
		dc, err := deployment.New(deployment.Config{Client: cs})
		if err != nil {
			t.Fatal(err)
		}
		controllertest.Go(t, "replicaset controller", rsc.Run)
		controllertest.Go(t, "deployment controller", dc.Run)
		(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "garbage collector", gc.Run)
	return s, cs
}

func newDeployment(name string) *apps.Deployment {
	n := int32(2)
	d := &apps.Deployment{}
	d.Namespace, d.Name = "default", name
	d.Spec.Replicas = &n
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	d.Spec.Template.Labels = map[string]string{"app": name}
	d.Spec.Template.Spec.NodeName = "n1"
	d.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	return d
}

// count returns how many replica sets and pods carry app=name.
func count(ctx context.Context, cs *client.Clientset, name string) (int, int, error) {
	rss, err := cs.ReplicaSets().List(ctx, "default", store.ListOptions{})
	if err != nil {
		return 0, 0, err
	}
	pods, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		return 0, 0, err
	}
	var r, p int
	for _, rs := range rss.Items {
		if rs.Labels["app"] == name {
			r++
		}
	}
	for _, pod := range pods.Items {
		if pod.Labels["app"] == name {
			p++
		}
	}
	return r, p, nil
}

// TestBackgroundCascade: deleting a deployment (through the API, and with
// kubectl delete, whose default cascade is background) deletes its
// replica sets and their pods; another deployment is untouched.
func TestBackgroundCascade(t *testing.T) {
	s, cs := env(t, 0, true)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "keep"} {
		if _, err := cs.Deployments().Create(ctx, newDeployment(name)); err != nil {
			t.Fatal(err)
		}
		controllertest.Eventually(t, name+" running", func() error {
			if r, p, err := count(ctx, cs, name); err != nil || r != 1 || p != 2 {
				return fmt.Errorf("%d replica sets, %d pods, %v", r, p, err)
			}
			return nil
		})
	}
	if _, err := cs.Deployments().Delete(ctx, "default", "a"); err != nil {
		t.Fatal(err)
	}
	controllertest.Kubectl(t, s, "delete", "deployment", "b")
	for _, name := range []string{"a", "b"} {
		controllertest.Eventually(t, name+" collected", func() error {
			if r, p, err := count(ctx, cs, name); err != nil || r != 0 || p != 0 {
				return fmt.Errorf("%d replica sets, %d pods, %v", r, p, err)
			}
			return nil
		})
	}
	if r, p, err := count(ctx, cs, "keep"); err != nil || r != 1 || p != 2 {
		t.Fatalf("keep: %d replica sets, %d pods, %v", r, p, err)
	}
}

func endpoints(name string, owners ...store.OwnerReference) *api.Endpoints {
	e := &api.Endpoints{}
	e.Namespace, e.Name = "default", name
	e.OwnerReferences = owners
	return e
}

func ref(kind, apiVersion, name, uid string) store.OwnerReference {
	return store.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid}
}

// TestOwners: an object is deleted only when every owner is gone; an
// owner of a kind the collector does not know keeps it; an owner that was
// re-created under the same name (another UID) is gone.
func TestOwners(t *testing.T) {
	_, cs := env(t, 1, false)
	ctx := context.Background()
	owner, err := cs.Endpoints().Create(ctx, endpoints("owner"))
	if err != nil {
		t.Fatal(err)
	}
	live := ref("Endpoints", "v1", "owner", owner.UID)
	// With one worker, objects are checked in the order they appear.
	for _, cm := range []*api.Endpoints{
		endpoints("two-owners", live, ref("Endpoints", "v1", "missing", "0000-missing")),
		endpoints("foreign", ref("Widget", "example.com/v1", "w", "0000-widget")),
		endpoints("recreated", ref("Endpoints", "v1", "owner", "0000-old-uid")),
		endpoints("dangling", ref("Endpoints", "v1", "missing", "0000-missing")),
	} {
		if _, err := cs.Endpoints().Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	gone := func(name string) func() error {
		return func() error {
			_, err := cs.Endpoints().Get(ctx, "default", name)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("%s still there (%v)", name, err)
		}
	}
	controllertest.Eventually(t, "dangling collected", gone("dangling"))
	controllertest.Eventually(t, "recreated collected", gone("recreated"))
	for _, name := range []string{"two-owners", "foreign"} {
		if _, err := cs.Endpoints().Get(ctx, "default", name); err != nil {
			t.Fatalf("%s: %v, want kept", name, err)
		}
	}
	if _, err := cs.Endpoints().Delete(ctx, "default", "owner"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "two-owners collected once both are gone", gone("two-owners"))
	if _, err := cs.Endpoints().Get(ctx, "default", "foreign"); err != nil {
		t.Fatalf("foreign: %v, want kept", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []garbagecollector.Config{{}, {Client: &client.Clientset{}, Workers: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := garbagecollector.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
