package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

// Pod is a small object type for the examples.
type Pod struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             PodSpec `json:"spec,omitempty"`
}

// PodSpec is Pod's desired state.
type PodSpec struct {
	Image string `json:"image,omitempty"`
}

var podResource = store.Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true}

func Example() {
	ctx := context.Background()
	pods, err := store.New[*Pod](memory.New(), podResource)
	if err != nil {
		panic(err)
	}
	created, err := pods.Create(ctx, &Pod{
		ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "web", Labels: map[string]string{"app": "web"}},
		Spec:       PodSpec{Image: "nginx:1.27"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("created", store.KeyOf(created), "generation", created.Generation, "kind", created.Kind)

	// A stale write conflicts instead of overwriting.
	stale := store.Clone(created)
	created.Spec.Image = "nginx:1.28"
	if _, err := pods.Update(ctx, created); err != nil {
		panic(err)
	}
	stale.Spec.Image = "busybox"
	_, err = pods.Update(ctx, stale)
	fmt.Println("stale update conflicts:", errors.Is(err, store.ErrConflict))

	// GuaranteedUpdate retries until it wins.
	updated, err := pods.GuaranteedUpdate(ctx, "default", "web", func(p *Pod) (*Pod, error) {
		p.Labels["tier"] = "front"
		return p, nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("image", updated.Spec.Image, "generation", updated.Generation)

	sel, _ := store.ParseSelector("app=web,tier in (front,back)")
	list, _ := pods.List(ctx, "", store.ListOptions{Selector: sel})
	fmt.Println("selected", len(list.Items), "with", sel)

	_, err = pods.Get(ctx, "default", "missing")
	fmt.Println("missing:", errors.Is(err, store.ErrNotFound))
	// Output:
	// created default/web generation 1 kind Pod
	// stale update conflicts: true
	// image nginx:1.28 generation 2
	// selected 1 with app=web,tier in (back,front)
	// missing: true
}

func ExampleStore_Watch() {
	ctx := context.Background()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	list, _ := pods.List(ctx, "default", store.ListOptions{})
	w, _ := pods.Watch(ctx, "default", store.WatchOptions{AfterRevision: list.Revision})
	defer w.Stop()
	p, _ := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "a"}})
	_, _ = pods.Delete(ctx, "default", "a")
	for range 2 {
		ev := <-w.Events()
		fmt.Println(ev.Type, ev.Object.Name, ev.Revision > list.Revision, ev.Object.UID == p.UID)
	}
	// Output:
	// ADDED a true true
	// DELETED a true true
}

func ExampleParseSelector() {
	_, err := store.ParseSelector("env in (prod")
	fmt.Println(err)
	s, _ := store.ParseSelector("env notin (dev), tier, !canary")
	fmt.Println(s, s.Matches(map[string]string{"env": "prod", "tier": "db"}))
	// Output:
	// invalid: label selector "env in (prod": at position 12: expected ',' or ')' in the value set of "in", found end of selector
	// !canary,env notin (dev),tier true
}

func TestNewRejectsBadInput(t *testing.T) {
	b := memory.New()
	bad := []store.Resource{
		{},
		{Name: "Pods", APIVersion: "v1", Kind: "Pod"},
		{Name: "pods", Kind: "Pod"},
		{Name: "pods", APIVersion: "v1"},
		{Name: "pods", APIVersion: "a/b/c", Kind: "Pod"},
	}
	for _, r := range bad {
		if _, err := store.New[*Pod](b, r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("New(%+v) err = %v, want ErrInvalid", r, err)
		}
	}
	if _, err := store.New[*Pod](nil, podResource); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New(nil backend) err = %v", err)
	}
	if _, err := store.New[*Pod](b, podResource, store.WithMaxObjectBytes(0)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("New(max 0) err = %v", err)
	}
	s, err := store.New[*Pod](b, podResource, store.WithKeyPrefix("/x/"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Key("ns", "a") != "/x/pods/ns/a" || s.Resource() != podResource || s.Backend() != store.Backend(b) {
		t.Errorf("Key = %q", s.Key("ns", "a"))
	}
}

func TestWithValidator(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	noLatest := func(p *Pod) error {
		if strings.HasSuffix(p.Spec.Image, ":latest") {
			return &store.FieldError{Field: "spec.image", Value: p.Spec.Image, Reason: "must pin a version"}
		}
		return nil
	}
	pods, err := store.New[*Pod](b, podResource, store.WithValidator(noLatest))
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := b.Revision(ctx)
	_, err = pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}, Spec: PodSpec{Image: "x:latest"}})
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "spec.image") {
		t.Fatalf("Create rejected by validator: err = %v", err)
	}
	if now, _ := b.Revision(ctx); now != rev {
		t.Fatal("a rejected Create wrote")
	}
	p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}, Spec: PodSpec{Image: "x:1"}})
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Image = "x:latest"
	if _, err := pods.Update(ctx, p); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Update rejected by validator: err = %v", err)
	}
	// A validator for another type fails New, naming both types.
	other, err := store.New[*storetest.Widget](b, storetest.WidgetResource, store.WithValidator(noLatest))
	if !errors.Is(err, store.ErrInvalid) || other != nil ||
		!strings.Contains(err.Error(), "*store_test.Pod") || !strings.Contains(err.Error(), "*storetest.Widget") {
		t.Fatalf("New with a validator of another type = %v, %v; want ErrInvalid naming both types", other, err)
	}
	// A validator of an interface the object satisfies is accepted.
	named, err := store.New[*Pod](b, podResource, store.WithValidator(func(o store.Object) error {
		if o.GetObjectMeta().Name == "forbidden" {
			return &store.FieldError{Field: "metadata.name", Value: "forbidden", Reason: "is reserved"}
		}
		return nil
	}))
	if err != nil {
		t.Fatalf("New with a store.Object validator: %v", err)
	}
	if _, err := named.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "forbidden"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("interface validator not applied: err = %v", err)
	}
}

func TestCorruptStoredValue(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource)
	if _, err := b.Create(ctx, pods.Key("ns", "bad"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "ns", "bad"); err == nil || !strings.Contains(err.Error(), "decoding") {
		t.Fatalf("Get of a corrupt value: err = %v", err)
	}
	good, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "good"}})
	if err != nil {
		t.Fatal(err)
	}
	// One bad value does not break the list for everyone: it is skipped and
	// reported (logged, counted).
	l, err := pods.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatalf("List over a corrupt value: %v", err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != good.Name {
		t.Fatalf("List over a corrupt value: %d items, want only %q", len(l.Items), good.Name)
	}
}

func TestCorruptStoredValueIsReported(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	var logs strings.Builder
	reg := prometheus.NewRegistry()
	pods, err := store.New[*Pod](b, podResource, store.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))), store.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, pods.Key("ns", "bad"), []byte(`{"metadata":{"creationTimestamp":"10000-01-01T00:00:00Z"}}`)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := pods.List(ctx, "ns", store.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(pods.UndecodableCounter()); got != 2 {
		t.Fatalf("undecodable objects counted %v times, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "setpoint_store_undecodable_objects_total"); err != nil || n != 1 {
		t.Fatalf("registered metric: %d series, %v", n, err)
	}
	if !strings.Contains(logs.String(), "key=/setpoint/pods/ns/bad") || !strings.Contains(logs.String(), "where=list") {
		t.Fatalf("log does not name the bad object: %s", logs.String())
	}
	// The same registry cannot hold a second store of the resource.
	if _, err := store.New[*Pod](b, podResource, store.WithRegisterer(reg)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("second store on one registry: err = %v", err)
	}
}

func TestCreateUsesClock(t *testing.T) {
	at := time.Date(2030, 5, 6, 7, 8, 9, 123, time.UTC)
	clk := clockwork.NewFakeClockAt(at)
	pods, err := store.New[*Pod](memory.New(), podResource, store.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pods.Create(context.Background(), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreationTimestamp.Equal(at.Truncate(time.Second)) {
		t.Fatalf("creationTimestamp %v, want %v", p.CreationTimestamp, at.Truncate(time.Second))
	}
	clk.Advance(time.Hour)
	p, err = pods.Create(context.Background(), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Add(time.Hour).Truncate(time.Second); !p.CreationTimestamp.Equal(want) {
		t.Fatalf("creationTimestamp after Advance %v, want %v", p.CreationTimestamp, want)
	}
	// nil is the real clock.
	wall, err := store.New[*Pod](memory.New(), podResource, store.WithClock(nil))
	if err != nil {
		t.Fatalf("New(WithClock(nil)) = %v, want the real clock", err)
	}
	before := time.Now().Truncate(time.Second)
	p, err = wall.Create(context.Background(), &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if ts := p.CreationTimestamp.Time; ts.Before(before) || ts.After(time.Now()) {
		t.Fatalf("creationTimestamp %v with the real clock, want about now", ts)
	}
}

func TestStoreContractOnMemory(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) store.Backend { return memory.New() })
}

func TestWithUID(t *testing.T) {
	pods, err := store.New[*Pod](memory.New(), podResource)
	if err != nil {
		t.Fatal(err)
	}
	uid := store.NewUID()
	obj := &Pod{ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "ns", UID: "client-sent"}}
	got, err := pods.Create(store.WithUID(context.Background(), uid), obj)
	if err != nil || got.UID != uid {
		t.Fatalf("Create with WithUID: %v %v, want UID %s", got, err, uid)
	}
	obj.Name = "b"
	got, err = pods.Create(context.Background(), obj)
	if err != nil || got.UID == "client-sent" || got.UID == uid || len(got.UID) != len(uid) {
		t.Fatalf("Create without WithUID kept or reused a UID: %v %v", got, err)
	}
}

// TestPathSegmentNames: with WithPathSegmentNames a name may hold ':'
// (RBAC's system:... roles); "/", "%", "." and ".." stay invalid and are
// not written, and without the option ':' is refused.
func TestPathSegmentNames(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	relaxed, err := store.New[*Pod](b, podResource, store.WithPathSegmentNames())
	if err != nil {
		t.Fatal(err)
	}
	p := &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "system:kube-scheduler"}}
	if _, err := relaxed.Create(ctx, p); err != nil {
		t.Fatalf("create %s: %v", p.Name, err)
	}
	if _, err := relaxed.GuaranteedUpdate(ctx, "ns", p.Name, func(p *Pod) (*Pod, error) { p.Spec.Image = "x"; return p, nil }); err != nil {
		t.Fatalf("update %s: %v", p.Name, err)
	}
	if got, err := relaxed.Get(ctx, "ns", p.Name); err != nil || got.Spec.Image != "x" {
		t.Fatalf("get %s: %v %v", p.Name, got, err)
	}
	for _, bad := range []string{".", "..", "a/b", "a%b", strings.Repeat("a", 254)} {
		_, err := relaxed.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: bad}})
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "metadata.name") {
			t.Errorf("create %q: %v, want an invalid metadata.name", bad, err)
		}
	}
	strict, _ := store.New[*Pod](b, podResource)
	if _, err := strict.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a:b"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("create a:b without the option: %v", err)
	}
	l, err := relaxed.List(ctx, "ns", store.ListOptions{})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("list: %v %d items, want only the valid one", err, len(l.Items))
	}
}
