package statefulset_test

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
	"github.com/setpoint-dev/setpoint/examples/controllers/statefulset"
	"github.com/setpoint-dev/setpoint/store"
)

// env runs an apiserver, the controller and a node stand-in for "n1"
// whose pods become Ready unless notReady names them.
func env(t *testing.T) (*apiserver.Server, *client.Clientset, *controllertest.NodeStandIn) {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	c, err := statefulset.New(statefulset.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "statefulset controller", c.Run)
	node := &controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}, Ready: func(p *api.Pod) bool { return p.Labels["ready"] != "no" }}
	node.Start(t)
	return s, cs, node
}

func newSet(name string, replicas int32) *apps.StatefulSet {
	s := &apps.StatefulSet{}
	s.Namespace, s.Name = "default", name
	s.Spec.Replicas = &replicas
	s.Spec.ServiceName = name + "-svc"
	s.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	s.Spec.Template.Labels = map[string]string{"app": name}
	s.Spec.Template.Spec.NodeName = "n1"
	s.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx:1"}}
	return s
}

// recorder logs pod events of a namespace in order, with the readiness
// of every pod at each event.
type recorder struct {
	mu    sync.Mutex
	ready map[string]bool
	log   []string // "add web-0", "delete web-2"
	bad   []string
}

func record(t *testing.T, cs *client.Clientset, set string) *recorder {
	t.Helper()
	r := &recorder{ready: map[string]bool{}}
	w, err := cs.Pods().Watch(context.Background(), "default", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	go func() {
		for ev := range w.Events() {
			p := ev.Object
			if !strings.HasPrefix(p.Name, set+"-") {
				continue
			}
			r.mu.Lock()
			switch {
			case ev.Type == "ADDED":
				r.log = append(r.log, "add "+p.Name)
			case ev.Type == "DELETED" || p.DeletionTimestamp != nil:
				if r.ready[p.Name] || ev.Type == "DELETED" {
					r.log = append(r.log, "delete "+p.Name)
				}
				delete(r.ready, p.Name)
				r.mu.Unlock()
				continue
			}
			r.ready[p.Name] = controllerutil.IsPodReady(p)
			r.mu.Unlock()
		}
	}()
	return r
}

// ordered checks an OrderedReady invariant on every creation: pods of
// lower ordinals were all Ready when pod n was added.
func (r *recorder) readyWhenAdded(set string, n int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range n {
		if !r.ready[fmt.Sprintf("%s-%d", set, i)] {
			return false
		}
	}
	return true
}

func (r *recorder) entries() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// pods returns the set's live pods by name.
func pods(ctx context.Context, cs *client.Clientset) (map[string]*api.Pod, error) {
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]*api.Pod{}
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p
		}
	}
	return out, nil
}

func waitStatus(t *testing.T, cs *client.Clientset, name, what string, ok func(*apps.StatefulSet) bool) *apps.StatefulSet {
	t.Helper()
	var cur *apps.StatefulSet
	controllertest.Eventually(t, what, func() error {
		var err error
		if cur, err = cs.StatefulSets().Get(context.Background(), "default", name); err != nil {
			return err
		}
		if cur.Status.ObservedGeneration != cur.Generation || !ok(cur) {
			return fmt.Errorf("status %+v", cur.Status)
		}
		return nil
	})
	return cur
}

// TestOrderedReady: pods are created in ordinal order, each only once
// the ones before are Ready, with stable hostnames, the service as
// subdomain, and a claim per template; scale-down removes the highest
// ordinal first; a rolling update with partition 1 replaces web-2 then
// web-1 and leaves web-0, and partition 0 finishes it; kubectl rollout
// history and undo work on the revisions.
func TestOrderedReady(t *testing.T) {
	ctx := context.Background()
	srv, cs, _ := env(t)
	rec := record(t, cs, "web")
	set := newSet("web", 3)
	set.Spec.VolumeClaimTemplates = []api.PersistentVolumeClaim{{}}
	vc := &set.Spec.VolumeClaimTemplates[0]
	vc.Name = "data"
	vc.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	vc.Spec.Resources.Requests = api.ResourceList{api.ResourceStorage: api.MustParse("1Gi")}
	set.Spec.Template.Spec.Containers[0].VolumeMounts = []api.VolumeMount{{Name: "data", MountPath: "/data"}}
	if _, err := cs.StatefulSets().Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	controllertest.Eventually(t, "three pods in order", func() error {
		for i := range 3 {
			name := fmt.Sprintf("web-%d", i)
			if !checked[name] && containsEntry(rec.entries(), "add "+name) {
				if !rec.readyWhenAdded("web", i) {
					t.Fatalf("%s created before the lower ordinals were Ready (log %v)", name, rec.entries())
				}
				checked[name] = true
			}
		}
		if len(checked) != 3 {
			return fmt.Errorf("created %v", checked)
		}
		return nil
	})
	cur := waitStatus(t, cs, "web", "3 ready", func(s *apps.StatefulSet) bool { return s.Status.ReadyReplicas == 3 && s.Status.AvailableReplicas == 3 })
	if cur.Status.CurrentRevision == "" || cur.Status.CurrentRevision != cur.Status.UpdateRevision || cur.Status.CurrentReplicas != 3 {
		t.Errorf("revisions %+v", cur.Status)
	}
	ps, _ := pods(ctx, cs)
	for i := range 3 {
		p := ps[fmt.Sprintf("web-%d", i)]
		claim := fmt.Sprintf("data-web-%d", i)
		if p.Spec.Hostname != p.Name || p.Spec.Subdomain != "web-svc" || p.Labels[statefulset.PodIndexLabel] != fmt.Sprint(i) {
			t.Errorf("pod %s: hostname %q subdomain %q labels %v", p.Name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].PersistentVolumeClaim == nil || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
			t.Errorf("pod %s volumes %+v", p.Name, p.Spec.Volumes)
		}
		pvc, err := cs.PersistentVolumeClaims().Get(ctx, "default", claim)
		if err != nil {
			t.Errorf("claim %s: %v", claim, err)
		} else if pvc.Labels["app"] != "web" {
			t.Errorf("claim %s labels %v", claim, pvc.Labels)
		}
	}

	// Rolling update, partition 1.
	cur.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	cur.Spec.UpdateStrategy.RollingUpdate = &apps.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}
	if cur, err := cs.StatefulSets().Update(ctx, cur); err != nil {
		t.Fatal(err)
	} else {
		_ = cur
	}
	cur = waitStatus(t, cs, "web", "2 updated", func(s *apps.StatefulSet) bool {
		return s.Status.UpdatedReplicas == 2 && s.Status.ReadyReplicas == 3 && s.Status.CurrentRevision != s.Status.UpdateRevision
	})
	ps, _ = pods(ctx, cs)
	if img := ps["web-0"].Spec.Containers[0].Image; img != "nginx:1" {
		t.Errorf("web-0 below the partition runs %s", img)
	}
	log := rec.entries()
	if i2, i1 := index(log, "delete web-2"), index(log, "delete web-1"); i2 < 0 || i1 < 0 || i2 > i1 {
		t.Errorf("update order: %v, want web-2 replaced before web-1", log)
	}
	cur.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0))
	if _, err := cs.StatefulSets().Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	cur = waitStatus(t, cs, "web", "all updated", func(s *apps.StatefulSet) bool {
		return s.Status.UpdatedReplicas == 3 && s.Status.ReadyReplicas == 3 && s.Status.CurrentRevision == s.Status.UpdateRevision
	})
	controllertest.Kubectl(t, srv, "rollout", "status", "statefulset/web", "--timeout=60s")
	if out := controllertest.Kubectl(t, srv, "rollout", "history", "statefulset/web"); !strings.Contains(out, "1") || !strings.Contains(out, "2") {
		t.Errorf("rollout history:\n%s", out)
	}
	controllertest.Kubectl(t, srv, "rollout", "undo", "statefulset/web")
	waitStatus(t, cs, "web", "rolled back", func(s *apps.StatefulSet) bool {
		return s.Spec.Template.Spec.Containers[0].Image == "nginx:1" && s.Status.UpdatedReplicas == 3 && s.Status.ReadyReplicas == 3 &&
			s.Status.CurrentRevision == s.Status.UpdateRevision
	})

	// Scale down to 1: web-2 goes before web-1.
	cur, _ = cs.StatefulSets().Get(ctx, "default", "web")
	cur.Spec.Replicas = ptr(int32(1))
	if _, err := cs.StatefulSets().Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	before := len(rec.entries())
	waitStatus(t, cs, "web", "scaled to 1", func(s *apps.StatefulSet) bool { return s.Status.Replicas == 1 })
	controllertest.Eventually(t, "both deletions seen", func() error {
		log := rec.entries()[before:]
		if index(log, "delete web-1") < 0 {
			return fmt.Errorf("log %v", log)
		}
		if i2, i1 := index(log, "delete web-2"), index(log, "delete web-1"); i2 < 0 || i2 > i1 {
			t.Fatalf("scale-down order %v, want web-2 first", log)
		}
		return nil
	})
	// Claims are retained by default.
	if _, err := cs.PersistentVolumeClaims().Get(ctx, "default", "data-web-2"); err != nil {
		t.Errorf("claim of a removed ordinal (whenScaled Retain): %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func containsEntry(log []string, e string) bool { return index(log, e) >= 0 }

func index(log []string, e string) int {
	for i, x := range log {
		if x == e {
			return i
		}
	}
	return -1
}

// TestParallel: Parallel pod management creates every pod at once, even
// while none is Ready.
func TestParallel(t *testing.T) {
	ctx := context.Background()
	_, cs, _ := env(t)
	set := newSet("par", 3)
	set.Spec.PodManagementPolicy = apps.ParallelPodManagement
	set.Spec.Template.Labels["ready"] = "no"
	if _, err := cs.StatefulSets().Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	cur := waitStatus(t, cs, "par", "3 pods, none ready", func(s *apps.StatefulSet) bool { return s.Status.Replicas == 3 })
	if cur.Status.ReadyReplicas != 0 {
		t.Errorf("ready %d, want 0", cur.Status.ReadyReplicas)
	}
}

// TestInvalidClaimTemplate: a stateful set with an invalid volume claim
// template is refused with 422 naming it; nothing is created.
func TestInvalidClaimTemplate(t *testing.T) {
	ctx := context.Background()
	_, cs, _ := env(t)
	set := newSet("bad", 1)
	set.Spec.VolumeClaimTemplates = []api.PersistentVolumeClaim{{}}
	set.Spec.VolumeClaimTemplates[0].Name = "Not_A_Name"
	_, err := cs.StatefulSets().Create(ctx, set)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.volumeClaimTemplates[0]") {
		t.Fatalf("create: %v, want 422 naming spec.volumeClaimTemplates[0]", err)
	}
	if l, _ := cs.StatefulSets().List(ctx, "default", store.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d stateful sets stored", len(l.Items))
	}
	if ps, _ := pods(ctx, cs); len(ps) != 0 {
		t.Errorf("%d pods", len(ps))
	}
}

// TestOnDeleteAndClaimRetention: with the OnDelete strategy a new
// template replaces no pod until the pod is deleted, and the replacement
// runs the new template; with whenScaled=Delete, scaling down deletes the
// removed ordinal's claim and keeps the others.
func TestOnDeleteAndClaimRetention(t *testing.T) {
	ctx := context.Background()
	_, cs, _ := env(t)
	set := newSet("od", 2)
	set.Spec.UpdateStrategy.Type = apps.OnDeleteStatefulSetStrategyType
	set.Spec.PersistentVolumeClaimRetentionPolicy = &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: apps.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: apps.DeletePersistentVolumeClaimRetentionPolicyType}
	set.Spec.VolumeClaimTemplates = []api.PersistentVolumeClaim{{}}
	vc := &set.Spec.VolumeClaimTemplates[0]
	vc.Name = "data"
	vc.Spec.AccessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce}
	vc.Spec.Resources.Requests = api.ResourceList{api.ResourceStorage: api.MustParse("1Gi")}
	if _, err := cs.StatefulSets().Create(ctx, set); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cs, "od", "2 ready", func(s *apps.StatefulSet) bool { return s.Status.ReadyReplicas == 2 })
	image := func(name string) string {
		ps, err := pods(ctx, cs)
		if err != nil || ps[name] == nil {
			return ""
		}
		return ps[name].Spec.Containers[0].Image
	}

	if _, err := cs.StatefulSets().GuaranteedUpdate(ctx, "default", "od", func(s *apps.StatefulSet) (*apps.StatefulSet, error) {
		s.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cs, "od", "new update revision, no pod updated", func(s *apps.StatefulSet) bool {
		return s.Status.UpdateRevision != s.Status.CurrentRevision && s.Status.UpdatedReplicas == 0 && s.Status.ReadyReplicas == 2
	})
	for _, name := range []string{"od-0", "od-1"} {
		if img := image(name); img != "nginx:1" {
			t.Fatalf("OnDelete: %s runs %q before being deleted, want nginx:1", name, img)
		}
	}
	old, err := cs.Pods().Get(ctx, "default", "od-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Pods().Delete(ctx, "default", "od-1", store.WithPreconditionUID(old.UID)); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "od-1 replaced with the new template", func() error {
		if img := image("od-1"); img != "nginx:2" {
			return fmt.Errorf("od-1 runs %q", img)
		}
		return nil
	})
	if img := image("od-0"); img != "nginx:1" {
		t.Fatalf("OnDelete: od-0 runs %q, want nginx:1 (not deleted)", img)
	}

	if _, err := cs.StatefulSets().GuaranteedUpdate(ctx, "default", "od", func(s *apps.StatefulSet) (*apps.StatefulSet, error) {
		s.Spec.Replicas = ptr(int32(1))
		return s, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, cs, "od", "scaled to 1", func(s *apps.StatefulSet) bool { return s.Status.Replicas == 1 })
	controllertest.Eventually(t, "claim of od-1 deleted (whenScaled Delete)", func() error {
		if _, err := cs.PersistentVolumeClaims().Get(ctx, "default", "data-od-1"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("data-od-1: %v", err)
		}
		return nil
	})
	if _, err := cs.PersistentVolumeClaims().Get(ctx, "default", "data-od-0"); err != nil {
		t.Fatalf("claim of the remaining ordinal: %v", err)
	}
}
