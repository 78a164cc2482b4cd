package agent_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/store"
)

// TestDescriptionRemovalWithoutStatus: an object the agent applied is
// removed when the Description stops holding it even though no status
// recording it was ever written (here the agent may not write
// descriptions/status at all, as when every status write loses a
// conflict): the agent remembers what it applied.
func TestDescriptionRemovalWithoutStatus(t *testing.T) {
	p := mctest.StartParent(t, "agent-x")
	ctx := context.Background()
	ns := mc.ClusterNamespace("x")
	if _, err := p.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: store.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	p.Grant(t, "agent-x", ns, "descriptions", []string{"get", "list", "watch", "update"}) // not descriptions/status
	child := mctest.StartChild(t)
	cs := controllertest.Clientset(t, child)
	mctest.StartAgent(t, "https://127.0.0.1:1", p.Server.PKI().CACert, child, "x", "agent-x",
		func(c *agent.Config) { c.ParentKubeconfig = p.AgentKubeconfig("agent-x") })
	cm := func(name string) api.RawExtension {
		return api.RawExtension{Raw: []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"apps"}}`, name))}
	}
	descs := mctest.Descriptions(t, p)
	if _, err := descs.Create(ctx, &mc.Description{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: "d"},
		Spec: mc.DescriptionSpec{Subscription: "default/s", Objects: []api.RawExtension{cm("keep"), cm("drop")}}}); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	exists := func(name string) bool { _, err := cs.ConfigMaps().Get(ctx, "apps", name); return err == nil }
	wait("both applied", func() bool { return exists("keep") && exists("drop") })
	d, err := descs.Get(ctx, ns, "d")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Status.Objects) != 0 {
		t.Fatalf("status written without permission: %+v", d.Status)
	}
	d.Spec.Objects = d.Spec.Objects[:1]
	if _, err := descs.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	wait("drop removed", func() bool {
		_, err := cs.ConfigMaps().Get(ctx, "apps", "drop")
		return errors.Is(err, store.ErrNotFound)
	})
	if !exists("keep") {
		t.Error("keep was removed too")
	}
}
