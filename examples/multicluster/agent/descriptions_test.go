package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
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
	e := startDescEnv(t, "x")
	p, ns, child, cs := e.p, e.ns, e.child, e.cs
	ctx := context.Background()
	mctest.StartAgent(t, "https://127.0.0.1:1", p.Server.PKI().CACert, child, "x", "agent-x",
		func(c *agent.Config) { c.ParentKubeconfig = p.AgentKubeconfig("agent-x") })
	descs := mctest.Descriptions(t, p)
	if _, err := descs.Create(ctx, &mc.Description{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: "d"},
		Spec: mc.DescriptionSpec{Subscription: "default/s", Objects: []api.RawExtension{configMap("keep"), configMap("drop")}}}); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func() bool) { t.Helper(); waitFor(t, what, ok) }
	exists := e.exists
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

// TestDescriptionRemovalAcrossRestart: the agent writes its record of a
// Description's objects in the child before it applies them, so an
// object it applied (with no status recording it) is removed when the
// Description drops it while the agent is down, by the next run of the
// agent; an object the record names that is not the agent's (no
// annotation naming the Description) is left alone; deleting the
// Description removes its objects and the record.
func TestDescriptionRemovalAcrossRestart(t *testing.T) {
	e := startDescEnv(t, "y")
	p, ns, child, cs := e.p, e.ns, e.child, e.cs
	ctx := context.Background()
	kc, err := child.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{ClusterID: "y", HubURL: "https://127.0.0.1:1", HubCAPEM: p.Server.PKI().CACert, HubToken: mctest.Token("agent-y"),
		ChildKubeconfig: kc, ParentKubeconfig: p.AgentKubeconfig("agent-y"), Logger: mctest.Quiet()}
	first, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- first.Run(runCtx) }()
	defer func() { stop(); <-stopped }()

	descs := mctest.Descriptions(t, p)
	if _, err := descs.Create(ctx, &mc.Description{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: "d"},
		Spec: mc.DescriptionSpec{Subscription: "default/s", Objects: []api.RawExtension{configMap("keep"), configMap("drop"), configMap("theirs")}}}); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func() bool) { t.Helper(); waitFor(t, what, ok) }
	exists := e.exists
	wait("all three applied", func() bool { return exists("keep") && exists("drop") && exists("theirs") })
	rec, err := cs.ConfigMaps().Get(ctx, agent.RecordNamespace, "d")
	if err != nil {
		t.Fatalf("the agent's record: %v", err)
	}
	for _, name := range []string{"keep", "drop", "theirs"} {
		if !strings.Contains(rec.Data[agent.RecordKey], `"Name":"`+name+`"`) && !strings.Contains(rec.Data[agent.RecordKey], `"name":"`+name+`"`) {
			t.Errorf("record %s does not list %s", rec.Data[agent.RecordKey], name)
		}
	}
	stop()
	if err := <-stopped; err != nil {
		t.Fatalf("first agent: %v", err)
	}
	stopped <- nil // for the deferred stop

	// while the agent is down: the Description drops two objects, and
	// someone takes "theirs" over (its annotation no longer names d)
	theirs, err := cs.ConfigMaps().Get(ctx, "apps", "theirs")
	if err != nil {
		t.Fatal(err)
	}
	theirs.Annotations = map[string]string{"owner": "someone else"}
	if _, err := cs.ConfigMaps().Update(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	d, err := descs.Get(ctx, ns, "d")
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Objects = d.Spec.Objects[:1]
	if _, err := descs.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	mctest.StartAgent(t, cfg.HubURL, cfg.HubCAPEM, child, "y", "agent-y", func(c *agent.Config) { c.ParentKubeconfig = cfg.ParentKubeconfig })
	wait("drop removed by the restarted agent", func() bool { return !exists("drop") })
	// the record is rewritten once the whole pass has pruned
	wait("record shrunk to keep", func() bool {
		rec, err := cs.ConfigMaps().Get(ctx, agent.RecordNamespace, "d")
		return err == nil && strings.Contains(rec.Data[agent.RecordKey], `"keep"`) &&
			!strings.Contains(rec.Data[agent.RecordKey], "drop") && !strings.Contains(rec.Data[agent.RecordKey], "theirs")
	})
	if !exists("keep") {
		t.Error("keep was removed too")
	}
	if !exists("theirs") {
		t.Error("an object no longer marked as the agent's was removed")
	}

	// deleting the Description removes its objects and the record
	if _, err := descs.Delete(ctx, ns, "d"); err != nil {
		t.Fatal(err)
	}
	wait("keep and the record removed", func() bool {
		_, err := cs.ConfigMaps().Get(ctx, agent.RecordNamespace, "d")
		return !exists("keep") && errors.Is(err, store.ErrNotFound)
	})
	if !exists("theirs") {
		t.Error("an object no longer marked as the agent's was removed with the Description")
	}
}

// descEnv is a parent with cluster id's namespace, whose agent user may
// read and update Descriptions but not their status, and a child.
type descEnv struct {
	p     *mctest.Parent
	ns    string
	child *apiserver.Server
	cs    *client.Clientset
}

func startDescEnv(t *testing.T, id string) *descEnv {
	t.Helper()
	user := "agent-" + id
	p := mctest.StartParent(t, user)
	ns := mc.ClusterNamespace(id)
	if _, err := p.Client.Namespaces().Create(context.Background(), &api.Namespace{ObjectMeta: store.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	p.Grant(t, user, ns, "descriptions", []string{"get", "list", "watch", "update"}) // not descriptions/status
	child := mctest.StartChild(t)
	return &descEnv{p: p, ns: ns, child: child, cs: controllertest.Clientset(t, child)}
}

// configMap is a ConfigMap manifest in namespace apps.
func configMap(name string) api.RawExtension {
	return api.RawExtension{Raw: []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"apps"}}`, name))}
}

// exists reports whether ConfigMap apps/name is in the child.
func (e *descEnv) exists(name string) bool {
	_, err := e.cs.ConfigMaps().Get(context.Background(), "apps", name)
	return err == nil
}

// waitFor polls ok for a minute.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
