package deployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
)

// TestProgressDeadline: a rollout whose new pods never become ready is
// reported Progressing=False ProgressDeadlineExceeded once
// progressDeadlineSeconds pass on the controller's clock without progress,
// and kubectl rollout status fails saying so. The old pods keep serving
// (maxUnavailable 0).
func TestProgressDeadline(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	clock := clockwork.NewFakeClock()
	rsc, err := replicaset.New(replicaset.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deployment.New(deployment.Config{Client: cs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "replicaset controller", rsc.Run)
	controllertest.Go(t, "deployment controller", dc.Run)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"},
		Ready: func(p *api.Pod) bool { return p.Spec.Containers[0].Image != "broken" }}).Start(t)

	d := newDeployment("slow", 2, "ok")
	deadline := int32(30)
	d.Spec.ProgressDeadlineSeconds = &deadline
	zero, one := api.FromInt(0), api.FromInt(1)
	d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &zero}}
	if _, err := cs.Deployments().Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, cs, "slow", "ok")
	setImage(t, cs, "slow", "broken")
	progressing := func() (*apps.DeploymentCondition, *apps.Deployment, error) {
		d, err := cs.Deployments().Get(context.Background(), "default", "slow")
		if err != nil {
			return nil, nil, err
		}
		for i, c := range d.Status.Conditions {
			if c.Type == apps.DeploymentProgressing {
				return &d.Status.Conditions[i], d, nil
			}
		}
		return nil, d, nil
	}
	controllertest.Eventually(t, "rollout stalls with one unready new pod", func() error {
		c, d, err := progressing()
		if err != nil {
			return err
		}
		if d.Status.ObservedGeneration != d.Generation || d.Status.UpdatedReplicas != 1 || c == nil || c.Status != api.ConditionTrue || c.Reason == deployment.ReasonNewReplicaSetAvailable {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
	controllertest.Eventually(t, "deadline exceeded", func() error {
		clock.Advance(time.Duration(deadline+1) * time.Second)
		c, d, err := progressing()
		if err != nil {
			return err
		}
		if c == nil || c.Status != api.ConditionFalse || c.Reason != deployment.ReasonProgressDeadlineExceeded {
			return fmt.Errorf("conditions %+v", d.Status.Conditions)
		}
		if d.Status.AvailableReplicas != 2 {
			return fmt.Errorf("available %d, want the 2 old pods", d.Status.AvailableReplicas)
		}
		return nil
	})
	out, err := controllertest.KubectlErr(t, s, "rollout", "status", "deployment/slow", "--timeout=30s")
	if err == nil || !strings.Contains(out, "exceeded its progress deadline") {
		t.Fatalf("kubectl rollout status: err %v, output %s", err, out)
	}
}
