package deployment_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/deployment"
	"github.com/setpoint-dev/setpoint/examples/controllers/replicaset"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// env runs an apiserver, the replica set and deployment controllers and a
// node stand-in for node "n1".
func env(t *testing.T) (*apiserver.Server, *client.Clientset) {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	rec, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cs.Events(), Component: "deployment-controller"})
	if err != nil {
		t.Fatal(err)
	}
	rsc, err := replicaset.New(replicaset.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deployment.New(deployment.Config{Client: cs, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "recorder", rec.Run)
	controllertest.Go(t, "replicaset controller", rsc.Run)
	controllertest.Go(t, "deployment controller", dc.Run)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	return s, cs
}

func newDeployment(name string, n int32, image string) *apps.Deployment {
	d := &apps.Deployment{}
	d.Namespace, d.Name = "default", name
	d.Spec.Replicas = &n
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	d.Spec.Template.Labels = map[string]string{"app": name}
	d.Spec.Template.Spec.NodeName = "n1"
	d.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: image}}
	return d
}

// rolledOut waits until d's rollout of image is complete as kubectl
// rollout status judges it, and returns the deployment.
func rolledOut(t *testing.T, cs *client.Clientset, name, image string) *apps.Deployment {
	t.Helper()
	var d *apps.Deployment
	controllertest.Eventually(t, name+" rolled out with "+image, func() error {
		var err error
		if d, err = cs.Deployments().Get(context.Background(), "default", name); err != nil {
			return err
		}
		st, want := d.Status, *d.Spec.Replicas
		if d.Spec.Template.Spec.Containers[0].Image != image || st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want ||
			st.Replicas != want || st.AvailableReplicas != want {
			return fmt.Errorf("status %+v", st)
		}
		for _, c := range st.Conditions {
			if c.Type == apps.DeploymentProgressing && c.Reason == deployment.ReasonNewReplicaSetAvailable {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", st.Conditions)
	})
	return d
}

func setImage(t *testing.T, cs *client.Clientset, name, image string) {
	t.Helper()
	if _, err := cs.Deployments().GuaranteedUpdate(context.Background(), "default", name, func(d *apps.Deployment) (*apps.Deployment, error) {
		d.Spec.Template.Spec.Containers[0].Image = image
		return d, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// podWatch follows the pods of app and calls check with the live set
// after every event.
func podWatch(t *testing.T, cs *client.Clientset, app string, check func(pods map[string]*api.Pod)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]*api.Pod{}
	for _, p := range l.Items {
		if p.Labels["app"] == app {
			live[p.Name] = p
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range w.Events() {
			if ev.Object.Labels["app"] != app {
				continue
			}
			if ev.Type == watch.Deleted || ev.Object.DeletionTimestamp != nil {
				delete(live, ev.Object.Name)
			} else {
				live[ev.Object.Name] = ev.Object
			}
			check(live)
		}
	}()
	t.Cleanup(func() { w.Stop(); cancel(); wg.Wait() })
}

func ready(p *api.Pod) bool { return controllerutil.IsPodReady(p) }

// TestRollingUpdate: a rolling update never has fewer than replicas -
// maxUnavailable ready pods nor more than replicas + maxSurge pods,
// checked at every pod event; it ends with the new replica set at
// revision 2 and the old one at zero.
func TestRollingUpdate(t *testing.T) {
	_, cs := env(t)
	ctx := context.Background()
	d := newDeployment("web", 4, "nginx:1")
	one := api.FromInt(1)
	d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &one}}
	if _, err := cs.Deployments().Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	first := rolledOut(t, cs, "web", "nginx:1")
	if first.Annotations[deployment.RevisionAnnotation] != "1" {
		t.Fatalf("revision %q", first.Annotations[deployment.RevisionAnnotation])
	}
	var mu sync.Mutex
	var violations []string
	podWatch(t, cs, "web", func(pods map[string]*api.Pod) {
		n := 0
		for _, p := range pods {
			if ready(p) {
				n++
			}
		}
		if n < 3 || len(pods) > 5 {
			mu.Lock()
			violations = append(violations, fmt.Sprintf("%d pods, %d ready", len(pods), n))
			mu.Unlock()
		}
	})
	setImage(t, cs, "web", "nginx:2")
	second := rolledOut(t, cs, "web", "nginx:2")
	if second.Annotations[deployment.RevisionAnnotation] != "2" {
		t.Fatalf("revision %q", second.Annotations[deployment.RevisionAnnotation])
	}
	mu.Lock()
	if len(violations) > 0 {
		t.Errorf("bounds broken: %v", violations)
	}
	mu.Unlock()
	rss, err := cs.ReplicaSets().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		img, rev := rs.Spec.Template.Spec.Containers[0].Image, rs.Annotations[deployment.RevisionAnnotation]
		want := map[string]int32{"nginx:1": 0, "nginx:2": 4}[img]
		if *rs.Spec.Replicas != want || rs.Labels[deployment.PodTemplateHashLabel] == "" || !strings.HasSuffix(rs.Name, rs.Labels[deployment.PodTemplateHashLabel]) ||
			(img == "nginx:2") != (rev == "2") {
			t.Errorf("replica set %s: image %s replicas %d revision %s labels %v", rs.Name, img, *rs.Spec.Replicas, rev, rs.Labels)
		}
	}
	if len(rss.Items) != 2 {
		t.Errorf("%d replica sets, want 2", len(rss.Items))
	}
}

// TestRecreate: with Recreate, pods of the old and the new template never
// run at the same time.
func TestRecreate(t *testing.T) {
	_, cs := env(t)
	d := newDeployment("db", 2, "pg:1")
	d.Spec.Strategy = apps.DeploymentStrategy{Type: apps.RecreateDeploymentStrategyType}
	if _, err := cs.Deployments().Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, cs, "db", "pg:1")
	var mu sync.Mutex
	var mixed []string
	podWatch(t, cs, "db", func(pods map[string]*api.Pod) {
		images := map[string]bool{}
		for _, p := range pods {
			images[p.Spec.Containers[0].Image] = true
		}
		if len(images) > 1 {
			mu.Lock()
			mixed = append(mixed, fmt.Sprint(images))
			mu.Unlock()
		}
	})
	setImage(t, cs, "db", "pg:2")
	rolledOut(t, cs, "db", "pg:2")
	mu.Lock()
	defer mu.Unlock()
	if len(mixed) > 0 {
		t.Fatalf("old and new pods together: %v", mixed)
	}
}

// TestKubectlRollout: kubectl rollout status, history, undo, pause and
// resume work against the controller.
func TestKubectlRollout(t *testing.T) {
	s, cs := env(t)
	d := newDeployment("api", 2, "app:1")
	limit := int32(5)
	d.Spec.RevisionHistoryLimit = &limit
	if _, err := cs.Deployments().Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if out := controllertest.Kubectl(t, s, "rollout", "status", "deployment/api", "--timeout=60s"); !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status: %s", out)
	}
	setImage(t, cs, "api", "app:2")
	rolledOut(t, cs, "api", "app:2")
	hist := controllertest.Kubectl(t, s, "rollout", "history", "deployment/api")
	if !strings.Contains(hist, "1 ") || !strings.Contains(hist, "2 ") {
		t.Fatalf("history: %s", hist)
	}
	controllertest.Kubectl(t, s, "rollout", "undo", "deployment/api")
	back := rolledOut(t, cs, "api", "app:1")
	if back.Annotations[deployment.RevisionAnnotation] != "3" {
		t.Fatalf("after undo: revision %q, want 3", back.Annotations[deployment.RevisionAnnotation])
	}
	rss, err := cs.ReplicaSets().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 2 {
		t.Fatalf("%d replica sets after undo, want the two templates' two", len(rss.Items))
	}
	for _, rs := range rss.Items {
		if rs.Spec.Template.Spec.Containers[0].Image == "app:1" &&
			(rs.Annotations[deployment.RevisionAnnotation] != "3" || rs.Annotations[deployment.RevisionHistoryAnnotation] != "1") {
			t.Fatalf("undone replica set annotations %v", rs.Annotations)
		}
	}
	controllertest.Kubectl(t, s, "rollout", "pause", "deployment/api")
	setImage(t, cs, "api", "app:3")
	controllertest.Eventually(t, "paused condition", func() error {
		d, err := cs.Deployments().Get(context.Background(), "default", "api")
		if err != nil {
			return err
		}
		for _, c := range d.Status.Conditions {
			if c.Type == apps.DeploymentProgressing && c.Reason == deployment.ReasonDeploymentPaused && d.Status.ObservedGeneration == d.Generation {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
	rss, _ = cs.ReplicaSets().List(context.Background(), "default", store.ListOptions{})
	if len(rss.Items) != 2 {
		t.Fatalf("paused deployment got a new replica set: %d", len(rss.Items))
	}
	controllertest.Kubectl(t, s, "rollout", "resume", "deployment/api")
	rolledOut(t, cs, "api", "app:3")
}

// TestRevisionHistoryLimit: old replica sets beyond the limit go, oldest
// first.
func TestRevisionHistoryLimit(t *testing.T) {
	_, cs := env(t)
	d := newDeployment("h", 1, "v:1")
	limit := int32(1)
	d.Spec.RevisionHistoryLimit = &limit
	if _, err := cs.Deployments().Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	rolledOut(t, cs, "h", "v:1")
	for _, img := range []string{"v:2", "v:3"} {
		setImage(t, cs, "h", img)
		rolledOut(t, cs, "h", img)
	}
	controllertest.Eventually(t, "history cleaned", func() error {
		rss, err := cs.ReplicaSets().List(context.Background(), "default", store.ListOptions{})
		if err != nil {
			return err
		}
		var imgs []string
		for _, rs := range rss.Items {
			imgs = append(imgs, rs.Spec.Template.Spec.Containers[0].Image)
		}
		if len(imgs) != 2 || strings.Contains(strings.Join(imgs, ","), "v:1") {
			return fmt.Errorf("replica sets of %v, want v:2 and v:3", imgs)
		}
		return nil
	})
}

// TestBadSelector: a deployment whose selector does not match its
// template is refused with 422, and nothing is created.
func TestBadSelector(t *testing.T) {
	_, cs := env(t)
	ctx := context.Background()
	d := newDeployment("bad", 2, "x")
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	if _, err := cs.Deployments().Create(ctx, d); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("create: %v, want ErrInvalid", err)
	}
	if _, err := cs.Deployments().Get(ctx, "default", "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get: %v", err)
	}
	rss, err := cs.ReplicaSets().List(ctx, "default", store.ListOptions{})
	if err != nil || len(rss.Items) != 0 {
		t.Fatalf("replica sets: %v %d", err, len(rss.Items))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []deployment.Config{{}, {Client: &client.Clientset{}, Workers: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := deployment.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
