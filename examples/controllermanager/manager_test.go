package controllermanager_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestConfigValidate(t *testing.T) {
	cs := &client.Clientset{}
	for _, c := range []controllermanager.Config{
		{},
		{Client: cs, Controllers: []string{"replicaset", "nosuch"}},
		{Client: cs, Controllers: []string{"-"}},
		{Client: cs, Listen: "no-port"},
		{Client: cs, LeaseDuration: -time.Second},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := controllermanager.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
	err := (&controllermanager.Config{Client: cs, Controllers: []string{"nosuch"}}).Validate()
	if err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("unknown controller: %v, want it named", err)
	}
}

// TestSelectControllers: --controllers semantics.
func TestSelectControllers(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	for _, tc := range []struct {
		list []string
		want []string
	}{
		{nil, controllermanager.KnownControllers()},
		{[]string{"*", "-deployment"}, without(controllermanager.KnownControllers(), "deployment")},
		{[]string{"-deployment", "*", "-garbagecollector", "-podgc"}, without(controllermanager.KnownControllers(), "deployment", "garbagecollector", "podgc")},
		{[]string{"namespace", "replicaset"}, []string{"namespace", "replicaset"}},
		{[]string{"replicaset"}, []string{"replicaset"}},
	} {
		m, err := controllermanager.New(controllermanager.Config{Client: controllertest.Clientset(t, s), Controllers: tc.list})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Controllers(); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.list, got, tc.want)
		}
	}
}

// without returns names without drop (the known list grows as controllers
// are added).
func without(names []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}

func start(t *testing.T, m *controllermanager.Manager) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func newRS(name string, n int32) *apps.ReplicaSet {
	rs := &apps.ReplicaSet{}
	rs.Namespace, rs.Name = "default", name
	rs.Spec.Replicas = &n
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": name}}
	rs.Spec.Template.Labels = map[string]string{"app": name}
	rs.Spec.Template.Spec.NodeName = "n1"
	rs.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
	return rs
}

func activePods(ctx context.Context, cs *client.Clientset, app string) (int, error) {
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range l.Items {
		if p.Labels["app"] == app && p.DeletionTimestamp == nil {
			n++
		}
	}
	return n, nil
}

// TestRun: one manager leads, runs its controllers (a replica set gets
// its pods, with Events from "replicaset-controller"), holds the Lease,
// and serves /healthz and per-controller /metrics.
func TestRun(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	reg := prometheus.NewRegistry()
	m, err := controllermanager.New(controllermanager.Config{Client: controllertest.Clientset(t, s), Identity: "cm-1",
		// Generous lease timing: this test is not about takeover, and a
		// loaded CI machine must not make the only manager lose its lease.
		Listen: "127.0.0.1:0", Registerer: reg, LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, m)
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	ctx := context.Background()
	if _, err := cs.ReplicaSets().Create(ctx, newRS("web", 2)); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "2 pods", func() error {
		if n, err := activePods(ctx, cs, "web"); err != nil || n != 2 {
			return fmt.Errorf("%d pods, %v", n, err)
		}
		return nil
	})
	lease, err := cs.Leases().Get(ctx, controllermanager.DefaultLeaseNamespace, controllermanager.DefaultLeaseName)
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != "cm-1" {
		t.Fatalf("lease: %v %+v", err, lease)
	}
	controllertest.Eventually(t, "events", func() error {
		evs, err := cs.Events().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Source.Component == "replicaset-controller" && e.ReportingInstance == "cm-1" && e.Reason == "SuccessfulCreate" {
				return nil
			}
		}
		return fmt.Errorf("no SuccessfulCreate event from replicaset-controller among %d", len(evs.Items))
	})
	addr, err := m.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := body("/healthz"); code != 200 || b != "ok" {
		t.Fatalf("/healthz: %d %q", code, b)
	}
	code, metrics := body("/metrics")
	for _, want := range []string{`setpoint_reconcile_queue_depth{name="replicaset"}`, `setpoint_reconcile_errors_total{name="deployment"}`,
		`setpoint_reconcile_reconcile_duration_seconds_count{name="replicaset"}`} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if err := m.Run(ctx); !errors.Is(err, controllermanager.ErrAlreadyRunning) {
		t.Fatalf("second Run: %v", err)
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSplitBrain: manager A leads, then its clock stops (a process paused
// past its lease: it never notices that it lost), and manager B takes
// over. Both run their controllers; every write of A is refused with
// ErrFenced, and no replica set ever has more pods than replicas, checked
// at every pod event.
func TestSplitBrain(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	(&controllertest.NodeStandIn{Client: cs, Nodes: []string{"n1"}}).Start(t)
	timing := func(c *controllermanager.Config) {
		c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 2*time.Second, 1500*time.Millisecond, 200*time.Millisecond
		c.Controllers = []string{"replicaset"}
	}
	var aLog syncBuffer
	cfgA := controllermanager.Config{Client: controllertest.Clientset(t, s), Identity: "cm-a", Clock: clockwork.NewFakeClock(),
		Logger: slog.New(slog.NewJSONHandler(&aLog, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	timing(&cfgA)
	a, err := controllermanager.New(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	stopA := start(t, a)
	controllertest.Eventually(t, "A leads", func() error {
		if !a.IsLeader() {
			return errors.New("not yet")
		}
		return nil
	})
	if _, err := cs.ReplicaSets().Create(ctx, newRS("web", 2)); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "A made 2 pods", func() error {
		if n, err := activePods(ctx, cs, "web"); err != nil || n != 2 {
			return fmt.Errorf("%d pods, %v", n, err)
		}
		return nil
	})

	cfgB := controllermanager.Config{Client: controllertest.Clientset(t, s), Identity: "cm-b"}
	timing(&cfgB)
	b, err := controllermanager.New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	start(t, b)
	controllertest.Eventually(t, "B takes over", func() error {
		if !b.IsLeader() {
			return errors.New("not yet")
		}
		return nil
	})
	if !a.IsLeader() {
		t.Fatal("A noticed; the test wants a leader that believes it still leads")
	}

	// Watch every pod event: never more active pods than replicas.
	var mu sync.Mutex
	var over []string
	replicas := 4
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l, err := cs.Pods().List(wctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.Pods().Watch(wctx, "default", store.WatchOptions{AfterRevision: l.Revision})
	if err != nil {
		t.Fatal(err)
	}
	live := map[string]bool{}
	for _, p := range l.Items {
		live[p.Name] = true
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.Events() {
			if ev.Type == watch.Deleted || ev.Object.DeletionTimestamp != nil {
				delete(live, ev.Object.Name)
			} else {
				live[ev.Object.Name] = true
			}
			if len(live) > replicas {
				mu.Lock()
				over = append(over, fmt.Sprintf("%d pods at revision %s", len(live), ev.Object.ResourceVersion))
				mu.Unlock()
			}
		}
	}()

	// Both leaders see these changes and both act on them.
	if _, err := cs.ReplicaSets().GuaranteedUpdate(ctx, "default", "web", func(r *apps.ReplicaSet) (*apps.ReplicaSet, error) {
		r.Spec.Replicas = ptr(int32(4))
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	settle := func() {
		controllertest.Eventually(t, "4 ready pods", func() error {
			got, err := cs.ReplicaSets().Get(ctx, "default", "web")
			if err != nil {
				return err
			}
			if n, err := activePods(ctx, cs, "web"); err != nil || n != 4 || got.Status.ReadyReplicas != 4 {
				return fmt.Errorf("%d pods, ready %d, %v", n, got.Status.ReadyReplicas, err)
			}
			return nil
		})
	}
	settle()
	pods, _ := cs.Pods().List(ctx, "default", store.ListOptions{})
	if _, err := cs.Pods().Delete(ctx, "default", pods.Items[0].Name); err != nil {
		t.Fatal(err)
	}
	settle()
	controllertest.Eventually(t, "A's writes refused as fenced", func() error {
		if !strings.Contains(aLog.String(), "409 Fenced") {
			l := aLog.String()
			return fmt.Errorf("A logged no fenced write: %s", l[max(0, len(l)-3000):])
		}
		return nil
	})
	w.Stop()
	cancel()
	<-watched
	mu.Lock()
	defer mu.Unlock()
	if len(over) > 0 {
		t.Fatalf("more pods than replicas: %v", over)
	}
	if err := stopA(); err != nil && !errors.Is(err, controllermanager.ErrLeadershipLost) {
		t.Fatalf("A's Run: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
