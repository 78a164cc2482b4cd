package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/mctest"
	"github.com/setpoint-dev/setpoint/store"
)

// fleet is a parent with a hub and the Subscription controller, and three
// child clusters a, b, c, each with a pulling agent.
type fleet struct {
	p        *mctest.Parent
	children map[string]*client.Clientset
}

// startFleet starts the parent, the hub, the deployer and one child and
// agent per entry of labels (cluster ID -> ManagedCluster labels); a
// cluster named in cpu (cluster ID -> quantity) gets a ready node with
// that much allocatable CPU.
func startFleet(t *testing.T, labels map[string]map[string]string, cpu map[string]string) *fleet {
	t.Helper()
	var users []string
	for id := range labels {
		users = append(users, "agent-"+id)
	}
	p := mctest.StartParent(t, users...)
	h := mctest.StartHub(t, p)
	f := &fleet{p: p, children: map[string]*client.Clientset{}}
	ctx := context.Background()
	for id, l := range labels {
		user := "agent-" + id
		p.GrantAgent(t, user, id)
		p.GrantDescriptions(t, user, id)
		_, err := mctest.ManagedClusters(t, p).Create(ctx, &mc.ManagedCluster{
			ObjectMeta: store.ObjectMeta{Name: id, Namespace: mc.ClusterNamespace(id), Labels: l},
			Spec:       mc.ManagedClusterSpec{ClusterID: id}})
		if err != nil {
			t.Fatal(err)
		}
		child := mctest.StartChild(t)
		f.children[id] = controllertest.Clientset(t, child)
		if q, ok := cpu[id]; ok {
			// A ready node with that much CPU: the agent's heartbeat
			// reports it as available, and the hub writes it into the
			// ManagedCluster's status.
			n, err := f.children[id].Nodes().Create(ctx, &api.Node{ObjectMeta: store.ObjectMeta{Name: "node-" + id}})
			if err != nil {
				t.Fatal(err)
			}
			n.Status.Allocatable = api.ResourceList{api.ResourceCPU: api.MustParse(q)}
			n.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}}
			if _, err := f.children[id].Nodes().UpdateStatus(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		mctest.StartAgent(t, h.URL(), h.CACertPEM(), child, id, user, func(c *agent.Config) { c.ParentKubeconfig = p.AgentKubeconfig(user) })
	}
	mctest.StartDeployer(t, p)
	return f
}

// eventually polls check until it returns nil, and fails the test with
// its last error after a minute.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func deployment(replicas int, cpu string) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
	"spec":{"replicas":%d,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
	"spec":{"containers":[{"name":"web","image":"nginx:1","resources":{"requests":{"cpu":%q}}}]}}}}`, replicas, cpu)
}

func configMap(name string) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"apps"},"data":{"k":"v"}}`, name)
}

func subscription(name string, strategy mc.SchedulingStrategy, dividing mc.DividingType, subs []mc.Subscriber, manifests ...string) *mc.Subscription {
	s := &mc.Subscription{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: name},
		Spec: mc.SubscriptionSpec{SchedulingStrategy: strategy, DividingType: dividing, Subscribers: subs}}
	for _, m := range manifests {
		s.Spec.Manifests = append(s.Spec.Manifests, api.RawExtension{Raw: []byte(m)})
	}
	return s
}

func selector(kv ...string) *api.LabelSelector {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &api.LabelSelector{MatchLabels: m}
}

// replicasIn waits until every child in want has the Deployment web with
// the wanted replicas, and the others have none.
func (f *fleet) replicasIn(t *testing.T, want map[string]int32) {
	t.Helper()
	eventually(t, "deployment replicas in the children", func() error {
		for id, cs := range f.children {
			d, err := cs.Deployments().Get(context.Background(), "default", "web")
			w, wanted := want[id]
			switch {
			case !wanted && err == nil:
				return fmt.Errorf("cluster %s has deployment web, want none", id)
			case !wanted:
				continue
			case err != nil:
				return fmt.Errorf("cluster %s: %v", id, err)
			case d.Spec.Replicas == nil:
				return fmt.Errorf("cluster %s: no replicas, want %d", id, w)
			case *d.Spec.Replicas != w:
				return fmt.Errorf("cluster %s: replicas %d, want %d", id, *d.Spec.Replicas, w)
			case d.Annotations[agent.AnnotationDescription] != mc.ClusterNamespace(id)+"/default.web":
				return fmt.Errorf("cluster %s: annotation %q = %q", id, agent.AnnotationDescription, d.Annotations[agent.AnnotationDescription])
			}
		}
		return nil
	})
}

// condition waits until the Subscription's condition typ has status st
// and a message containing msg, and returns the Subscription.
func (f *fleet) condition(t *testing.T, name, typ string, st api.ConditionStatus, msg string) *mc.Subscription {
	t.Helper()
	var got *mc.Subscription
	eventually(t, "subscription "+name+" condition "+typ, func() error {
		s, err := mctest.Subscriptions(t, f.p).Get(context.Background(), "default", name)
		if err != nil {
			return err
		}
		got = s
		for _, c := range s.Status.Conditions {
			if c.Type == typ {
				if c.Status != st || !strings.Contains(c.Message, msg) {
					return fmt.Errorf("%s is %s (%s: %s), want %s with %q", typ, c.Status, c.Reason, c.Message, st, msg)
				}
				return nil
			}
		}
		return fmt.Errorf("no condition %s in %+v", typ, s.Status)
	})
	return got
}

var threeClusters = map[string]map[string]string{
	"a": {"env": "prod", "region": "eu"},
	"b": {"env": "prod", "region": "us"},
	"c": {"env": "dev", "region": "eu"},
}

// TestSubscriptionReplication: every cluster the selector matches gets
// the full replicas; the unmatched one gets nothing; the status and
// kubectl get subscriptions show both clusters with 3 replicas, deployed.
func TestSubscriptionReplication(t *testing.T) {
	f := startFleet(t, threeClusters, nil)
	sub := subscription("web", mc.Replication, "", []mc.Subscriber{{ClusterAffinity: selector("env", "prod")}}, deployment(3, "100m"))
	if _, err := mctest.Subscriptions(t, f.p).Create(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	f.replicasIn(t, map[string]int32{"a": 3, "b": 3})
	s := f.condition(t, "web", hub.ConditionDeployed, api.ConditionTrue, "")
	if got := strings.Join(s.Status.BindingClusters, ","); got != "mcls-a/a,mcls-b/b" {
		t.Errorf("bindingClusters = %s", got)
	}
	out := controllertest.Kubectl(t, f.p.Server, "get", "subscriptions", "-n", "default")
	for _, want := range []string{"Replication", "a=3,b=3", "2/2"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get subscriptions: no %q in\n%s", want, out)
		}
	}
}

// TestSubscriptionDividingStatic: 6 replicas over weights 2:1 are 4 and 2.
func TestSubscriptionDividingStatic(t *testing.T) {
	f := startFleet(t, threeClusters, nil)
	sub := subscription("web", mc.Dividing, mc.DividingStatic, []mc.Subscriber{
		{ClusterAffinity: selector("env", "prod", "region", "eu"), Weight: 2},
		{ClusterAffinity: selector("env", "prod", "region", "us"), Weight: 1},
	}, deployment(6, "100m"))
	if _, err := mctest.Subscriptions(t, f.p).Create(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	f.replicasIn(t, map[string]int32{"a": 4, "b": 2})
	s := f.condition(t, "web", hub.ConditionDeployed, api.ConditionTrue, "")
	if s.Status.Replicas["mcls-a/a"] != 4 || s.Status.Replicas["mcls-b/b"] != 2 {
		t.Errorf("status replicas = %v, want a 4, b 2", s.Status.Replicas)
	}
}

// TestSubscriptionDividingByCapacity: 7 replicas of 500m CPU over clusters
// whose agents report 4, 2 and 1 CPU available (8, 4 and 2 replicas fit)
// are 4, 2 and 1, summing to 7: the capacity comes from each child's
// nodes through the agent's heartbeat and the hub's ManagedCluster status.
func TestSubscriptionDividingByCapacity(t *testing.T) {
	f := startFleet(t, threeClusters, map[string]string{"a": "4", "b": "2", "c": "1"})
	sub := subscription("web", mc.Dividing, mc.DividingDynamic, []mc.Subscriber{{ClusterAffinity: selector()}}, deployment(7, "500m"))
	if _, err := mctest.Subscriptions(t, f.p).Create(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	f.replicasIn(t, map[string]int32{"a": 4, "b": 2, "c": 1})
}

// TestSubscriptionOverridesOrder: Globalizations apply before
// Localizations, each lowest priority first: in cluster a a Localization
// of priority 10 still wins over Globalizations of 100 and 900; in b the
// Globalization of 900 wins over the one of 100, whose other change (a
// label) stays; c, which the Globalizations do not select, keeps the
// original image.
func TestSubscriptionOverridesOrder(t *testing.T) {
	f := startFleet(t, threeClusters, nil)
	ctx := context.Background()
	feed := mc.Feed{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web"}
	globs := mctest.Globalizations(t, f.p)
	for _, g := range []*mc.Globalization{
		{ObjectMeta: store.ObjectMeta{Name: "late"}, ClusterAffinity: selector("env", "prod"), Spec: mc.OverrideSpec{Feed: feed, Priority: 900,
			Overrides: []mc.Override{{Type: mc.JSONPatchOverride, Value: `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:g900"}]`}}}},
		{ObjectMeta: store.ObjectMeta{Name: "early"}, ClusterAffinity: selector("env", "prod"), Spec: mc.OverrideSpec{Feed: feed, Priority: 100,
			Overrides: []mc.Override{{Type: mc.MergePatchOverride, Value: `{"metadata":{"labels":{"tier":"front"}},"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:g100"}]}}}}`}}}},
	} {
		if _, err := globs.Create(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mctest.Localizations(t, f.p).Create(ctx, &mc.Localization{ObjectMeta: store.ObjectMeta{Namespace: "mcls-a", Name: "image"},
		Spec: mc.OverrideSpec{Feed: feed, Priority: 10, Overrides: []mc.Override{{Type: mc.JSONPatchOverride,
			Value: `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:local"}]`}}}}); err != nil {
		t.Fatal(err)
	}
	sub := subscription("web", mc.Replication, "", []mc.Subscriber{{ClusterAffinity: selector()}}, deployment(1, "100m"))
	if _, err := mctest.Subscriptions(t, f.p).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{"a": {"nginx:local", "front"}, "b": {"nginx:g900", "front"}, "c": {"nginx:1", ""}}
	eventually(t, "overridden images", func() error {
		for id, w := range want {
			d, err := f.children[id].Deployments().Get(ctx, "default", "web")
			if err != nil {
				return fmt.Errorf("cluster %s: %v", id, err)
			}
			if img := d.Spec.Template.Spec.Containers[0].Image; img != w[0] || d.Labels["tier"] != w[1] {
				return fmt.Errorf("cluster %s: image %s, tier %q; want %s, %q", id, img, d.Labels["tier"], w[0], w[1])
			}
		}
		return nil
	})
	// The Base keeps the object before overrides.
	bases, err := client.For[*mc.Base](f.p.Client, mc.BaseResource)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bases.Get(ctx, "mcls-a", "default.web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b.Spec.Objects[0].Raw), `"image":"nginx:1"`) {
		t.Errorf("base of a: %s, want the image before overrides", b.Spec.Objects[0].Raw)
	}
}

// TestSubscriptionRemovesObjects: an object dropped from the
// Subscription is removed from every child, the rest stays; deleting the
// Subscription removes everything it deployed (the agent's finalizer
// holds each Description until it has).
func TestSubscriptionRemovesObjects(t *testing.T) {
	f := startFleet(t, threeClusters, nil)
	ctx := context.Background()
	subs := mctest.Subscriptions(t, f.p)
	sub := subscription("cfg", mc.Replication, "", []mc.Subscriber{{ClusterAffinity: selector("env", "prod")}}, configMap("keep"), configMap("drop"))
	if _, err := subs.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	has := func(want map[string]bool) func() error {
		return func() error {
			for _, id := range []string{"a", "b"} {
				for name, w := range want {
					_, err := f.children[id].ConfigMaps().Get(ctx, "apps", name)
					if w && err != nil {
						return fmt.Errorf("cluster %s: configmap %s: %v", id, name, err)
					}
					if !w && !errors.Is(err, store.ErrNotFound) {
						return fmt.Errorf("cluster %s: configmap %s still there (%v)", id, name, err)
					}
				}
			}
			return nil
		}
	}
	eventually(t, "both configmaps applied", has(map[string]bool{"keep": true, "drop": true}))
	f.condition(t, "cfg", hub.ConditionDeployed, api.ConditionTrue, "")
	cur, err := subs.Get(ctx, "default", "cfg")
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Manifests = cur.Spec.Manifests[:1]
	if _, err := subs.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	eventually(t, "dropped configmap removed", has(map[string]bool{"keep": true, "drop": false}))
	if _, err := f.children["c"].ConfigMaps().Get(ctx, "apps", "keep"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unmatched cluster c: configmap keep: %v, want not found", err)
	}
	if _, err := subs.Delete(ctx, "default", "cfg"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "everything removed after the subscription's deletion", has(map[string]bool{"keep": false, "drop": false}))
	eventually(t, "descriptions gone", func() error {
		for _, id := range []string{"a", "b"} {
			if _, err := mctest.Descriptions(t, f.p).Get(ctx, mc.ClusterNamespace(id), "default.cfg"); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("description in %s: %v", id, err)
			}
		}
		return nil
	})
}

// TestSubscriptionBadOverride: a Localization whose JSON patch is
// malformed is refused by the parent naming the field; one that is well
// formed but does not apply (its path is missing) makes the
// Subscription's Deployed condition false naming the Localization and the
// cluster, and nothing is written for that cluster: its Description and
// its child keep the last good version, while the other cluster follows
// a change of the Subscription.
func TestSubscriptionBadOverride(t *testing.T) {
	f := startFleet(t, threeClusters, nil)
	ctx := context.Background()
	feed := mc.Feed{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web"}
	locs := mctest.Localizations(t, f.p)
	_, err := locs.Create(ctx, &mc.Localization{ObjectMeta: store.ObjectMeta{Namespace: "mcls-a", Name: "malformed"},
		Spec: mc.OverrideSpec{Feed: feed, Overrides: []mc.Override{{Type: mc.JSONPatchOverride, Value: `{"op":"replace"}`}}}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.overrides[0].value") {
		t.Fatalf("malformed patch: %v, want invalid naming spec.overrides[0].value", err)
	}
	subs := mctest.Subscriptions(t, f.p)
	sub := subscription("web", mc.Replication, "", []mc.Subscriber{{ClusterAffinity: selector("env", "prod")}}, deployment(2, "100m"))
	if _, err := subs.Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	f.replicasIn(t, map[string]int32{"a": 2, "b": 2})
	f.condition(t, "web", hub.ConditionDeployed, api.ConditionTrue, "")
	if _, err := locs.Create(ctx, &mc.Localization{ObjectMeta: store.ObjectMeta{Namespace: "mcls-a", Name: "missing-path"},
		Spec: mc.OverrideSpec{Feed: feed, Overrides: []mc.Override{{Type: mc.JSONPatchOverride,
			Value: `[{"op":"replace","path":"/spec/nothing/here","value":1}]`}}}}); err != nil {
		t.Fatal(err)
	}
	s := f.condition(t, "web", hub.ConditionDeployed, api.ConditionFalse, "localization mcls-a/missing-path")
	for _, c := range s.Status.Clusters {
		if c.Cluster == "mcls-a/a" && (c.Phase != mc.DescriptionFailure || !strings.Contains(c.Message, "spec.overrides[0]")) {
			t.Errorf("progress of a: %+v, want Failure naming the override", c)
		}
	}
	s.Spec.Manifests[0] = api.RawExtension{Raw: []byte(deployment(5, "100m"))}
	if _, err := subs.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	f.replicasIn(t, map[string]int32{"a": 2, "b": 5})
	d, err := mctest.Descriptions(t, f.p).Get(ctx, "mcls-a", "default.web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.Spec.Objects[0].Raw), `"replicas":2`) {
		t.Errorf("description in mcls-a: %s, want the last good version (2 replicas)", d.Spec.Objects[0].Raw)
	}
}

// TestDescriptionRejectedByChild: an object the child refuses (a Pod
// without containers) marks the Description Failed with the child's
// message naming the object, the other object is still applied and
// reported, and the Subscription's Deployed condition says so.
func TestDescriptionRejectedByChild(t *testing.T) {
	f := startFleet(t, map[string]map[string]string{"a": {"env": "prod"}}, nil)
	ctx := context.Background()
	bad := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"empty","namespace":"apps"},"spec":{"containers":[]}}`
	sub := subscription("mixed", mc.Replication, "", []mc.Subscriber{{ClusterAffinity: selector()}}, configMap("fine"), bad)
	if _, err := mctest.Subscriptions(t, f.p).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	s := f.condition(t, "mixed", hub.ConditionDeployed, api.ConditionFalse, "Pod apps/empty")
	if len(s.Status.Clusters) != 1 || s.Status.Clusters[0].Phase != mc.DescriptionFailure {
		t.Errorf("progress: %+v, want a Failure", s.Status.Clusters)
	}
	d, err := mctest.Descriptions(t, f.p).Get(ctx, "mcls-a", "default.mixed")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.Phase != mc.DescriptionFailure || !strings.Contains(d.Status.Reason, "Pod apps/empty") || !strings.Contains(d.Status.Reason, "containers") {
		t.Errorf("description status: %s / %s, want Failure naming the pod and its containers", d.Status.Phase, d.Status.Reason)
	}
	if len(d.Status.Objects) != 2 || !d.Status.Objects[0].Applied || d.Status.Objects[1].Applied {
		data, _ := json.Marshal(d.Status.Objects)
		t.Errorf("object statuses %s, want the configmap applied and the pod not", data)
	}
	if _, err := f.children["a"].ConfigMaps().Get(ctx, "apps", "fine"); err != nil {
		t.Errorf("configmap fine: %v", err)
	}
}

// TestSubscriptionFeeds: a feed names an object in the parent, which is
// deployed as it is there, less what the parent's apiserver set (uid,
// resourceVersion, creation time); a feed naming nothing makes the
// Scheduled condition false naming it, until the object appears.
func TestSubscriptionFeeds(t *testing.T) {
	f := startFleet(t, map[string]map[string]string{"a": {"env": "prod"}}, nil)
	ctx := context.Background()
	sub := &mc.Subscription{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "settings"},
		Spec: mc.SubscriptionSpec{Subscribers: []mc.Subscriber{{ClusterAffinity: selector()}},
			Feeds: []mc.Feed{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"}}}}
	if _, err := mctest.Subscriptions(t, f.p).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	f.condition(t, "settings", hub.ConditionScheduled, api.ConditionFalse, "spec.feeds[0]")
	cm := &api.ConfigMap{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "settings", Labels: map[string]string{"app": "web"}},
		Data: map[string]string{"mode": "fast"}}
	parentCM, err := f.p.Client.ConfigMaps().Create(ctx, cm)
	if err != nil {
		t.Fatal(err)
	}
	var got *api.ConfigMap
	eventually(t, "feed deployed", func() error {
		got, err = f.children["a"].ConfigMaps().Get(ctx, "default", "settings")
		return err
	})
	if got.Data["mode"] != "fast" || got.Labels["app"] != "web" {
		t.Errorf("child configmap: data %v labels %v, want the parent's", got.Data, got.Labels)
	}
	if got.UID == parentCM.UID {
		t.Errorf("child configmap has the parent's uid %s", got.UID)
	}
	f.condition(t, "settings", hub.ConditionDeployed, api.ConditionTrue, "")
}

// TestFeedWatched: a change to a feed object reaches the Description
// through the deployer's watch of it, with a resync period (an hour) far
// longer than the test may wait.
func TestFeedWatched(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := mctest.StartParent(t)
	if _, err := p.Client.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: store.ObjectMeta{Name: mc.ClusterNamespace("a")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mctest.ManagedClusters(t, p).Create(ctx, &mc.ManagedCluster{
		ObjectMeta: store.ObjectMeta{Name: "a", Namespace: mc.ClusterNamespace("a")}, Spec: mc.ManagedClusterSpec{ClusterID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.ConfigMaps().Create(ctx, &api.ConfigMap{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "settings"},
		Data: map[string]string{"mode": "fast"}}); err != nil {
		t.Fatal(err)
	}
	mctest.StartDeployer(t, p, func(c *hub.DeployerConfig) { c.ResyncPeriod = time.Hour })
	sub := &mc.Subscription{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "settings"},
		Spec: mc.SubscriptionSpec{Subscribers: []mc.Subscriber{{ClusterAffinity: selector()}},
			Feeds: []mc.Feed{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"}}}}
	if _, err := mctest.Subscriptions(t, p).Create(ctx, sub); err != nil {
		t.Fatal(err)
	}
	described := func(want string) func() error {
		return func() error {
			d, err := mctest.Descriptions(t, p).Get(ctx, mc.ClusterNamespace("a"), "default.settings")
			if err != nil {
				return err
			}
			if len(d.Spec.Objects) != 1 || !strings.Contains(string(d.Spec.Objects[0].Raw), want) {
				return fmt.Errorf("description has %d objects (first %s), want one with %s", len(d.Spec.Objects), firstRaw(d), want)
			}
			return nil
		}
	}
	eventually(t, "the feed described", described(`"mode":"fast"`))
	cm, err := p.Client.ConfigMaps().Get(ctx, "default", "settings")
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["mode"] = "slow"
	if _, err := p.Client.ConfigMaps().Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the feed's change described before any resync", described(`"mode":"slow"`))
}

func firstRaw(d *mc.Description) string {
	if len(d.Spec.Objects) == 0 {
		return "none"
	}
	return string(d.Spec.Objects[0].Raw)
}
