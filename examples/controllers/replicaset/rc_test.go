package replicaset_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
)

// TestReplicationController: the v1 kind runs through the same
// controller: pods with a ReplicationController controller reference,
// the status written back in the v1 shape, scale-down, and a selector
// left empty standing for the template's labels.
func TestReplicationController(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := replicaset.NewReplicationController(replicaset.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "replication controller", c.Run)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	ctx := context.Background()

	three := int32(3)
	rc := &api.ReplicationController{}
	rc.Namespace, rc.Name = "default", "web"
	rc.Spec.Replicas = &three
	rc.Spec.Selector = map[string]string{"app": "web"}
	rc.Spec.Template = &api.PodTemplateSpec{}
	rc.Spec.Template.Labels = map[string]string{"app": "web", "tier": "front"}
	rc.Spec.Template.Spec.NodeName = "n1"
	rc.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	rc, err = cs.ReplicationControllers().Create(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	ownedBy := func(uid string) (int, error) {
		l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return 0, err
		}
		n := 0
		for _, p := range l.Items {
			if ref := p.ControllerOf(); ref != nil && ref.UID == uid && p.DeletionTimestamp == nil {
				if ref.Kind != "ReplicationController" || ref.APIVersion != "v1" {
					t.Fatalf("pod %s controller reference %s %s, want v1 ReplicationController", p.Name, ref.APIVersion, ref.Kind)
				}
				n++
			}
		}
		return n, nil
	}
	status := func(name string, want int32) func() error {
		return func() error {
			got, err := cs.ReplicationControllers().Get(ctx, "default", name)
			if err != nil {
				return err
			}
			n, err := ownedBy(got.UID)
			if err != nil {
				return err
			}
			st := got.Status
			if int32(n) != want || st.Replicas != want || st.ReadyReplicas != want || st.AvailableReplicas != want ||
				st.FullyLabeledReplicas != want || st.ObservedGeneration != got.Generation {
				return fmt.Errorf("%d pods, status %+v (generation %d), want %d of each", n, st, got.Generation, want)
			}
			return nil
		}
	}
	controllertest.Eventually(t, "3 pods and the v1 status", status("web", 3))

	one := int32(1)
	rc, err = cs.ReplicationControllers().Get(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	rc.Spec.Replicas = &one
	if _, err := cs.ReplicationControllers().Update(ctx, rc); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "scaled down to 1", status("web", 1))

	two := int32(2)
	bare := &api.ReplicationController{}
	bare.Namespace, bare.Name = "default", "bare"
	bare.Spec.Replicas = &two
	bare.Spec.Template = &api.PodTemplateSpec{}
	bare.Spec.Template.Labels = map[string]string{"app": "bare"}
	bare.Spec.Template.Spec.NodeName = "n1"
	bare.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	if _, err := cs.ReplicationControllers().Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "a controller without a selector selects by its template's labels", status("bare", 2))
}
