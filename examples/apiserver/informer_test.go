package apiserver

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// eventLog records what an informer's handler saw and checks that no event
// is repeated or out of order: every object's resourceVersions grow.
type eventLog struct {
	mu    sync.Mutex
	last  map[string]int64 // key -> last revision seen
	state map[string]int64 // key -> revision, deleted keys removed
	err   error
}

func (l *eventLog) see(kind string, p *api.Pod, deleted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rev, _ := store.ParseRevision(p.ResourceVersion)
	k := store.KeyOf(p)
	if rev <= l.last[k] && l.err == nil {
		l.err = fmt.Errorf("%s %s at revision %d after revision %d: repeated or out of order", kind, k, rev, l.last[k])
	}
	l.last[k] = rev
	if deleted {
		delete(l.state, k)
	} else {
		l.state[k] = rev
	}
}

func TestInformerOverHTTPAcrossRestart(t *testing.T) {
	etcdSrv := etcdtest.Start(t)
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Backend: etcdSrv.Backend(), Listen: "127.0.0.1:0"}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s1, stop1 := runServer(t, cfg)
	cfg.Listen = s1.Addr() // the restart comes back on the same address
	ts := &testServer{Server: s1, dir: dir}
	pods := podClient(t, ts)
	direct, err := store.New[*api.Pod](etcdSrv.Backend(), registry.PodKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	inf, err := informer.New[*api.Pod](pods, informer.Config[*api.Pod]{Name: "pods-over-http",
		Backoff: informer.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{last: map[string]int64{}, state: map[string]int64{}}
	if _, err := inf.AddHandler(informer.HandlerFuncs[*api.Pod]{
		AddFunc:    func(p *api.Pod, _ bool) { log.see("add", p, false) },
		UpdateFunc: func(_, p *api.Pod) { log.see("update", p, false) },
		DeleteFunc: func(p *api.Pod, _ bool) { log.see("delete", p, true) },
	}); err != nil {
		t.Fatal(err)
	}
	runCtx, stopInf := context.WithCancel(ctx)
	infDone := make(chan error, 1)
	go func() { infDone <- inf.Run(runCtx) }()
	defer func() {
		stopInf()
		<-infDone
	}()
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	churn := func(round int) {
		for i := range 10 {
			name := fmt.Sprintf("r%d-%d", round, i)
			if _, err := direct.Create(ctx, newPod("default", name, nil)); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := direct.GuaranteedUpdate(ctx, "default", name, func(p *api.Pod) (*api.Pod, error) {
					p.Labels = map[string]string{"round": fmt.Sprint(round)}
					return p, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			if i%3 == 0 {
				if _, err := direct.Delete(ctx, "default", name); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	converged := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			l, err := direct.List(ctx, "", store.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, p := range l.Items {
				want[store.KeyOf(p)] = p.ResourceVersion
			}
			got := map[string]string{}
			for _, p := range inf.List() {
				got[store.KeyOf(p)] = p.ResourceVersion
			}
			log.mu.Lock()
			handlerState := len(log.state)
			logErr := log.err
			log.mu.Unlock()
			if logErr != nil {
				t.Fatal(logErr)
			}
			if equalMaps(got, want) && handlerState == len(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: informer cache %v != store %v (handler state %d)", what, got, want, handlerState)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	churn(1)
	converged("before the restart")
	if err := stop1(); err != nil {
		t.Fatal(err)
	}
	churn(2) // while the apiserver is down
	runServer(t, cfg)
	churn(3)
	converged("after the restart")
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestElectionObjectLockOverHTTP(t *testing.T) {
	s := startServer(t, func(c *Config) { c.KubeconfigOut = filepath.Join(t.TempDir(), "kc") })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leases := func() *rest.Client[*election.Lease] {
		c, err := rest.NewClient[*election.Lease](s.httpClient(t, true), s.URL(), election.LeaseResource)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pods := podClient(t, s)
	elector := func(id string) *election.Elector {
		lock, err := election.NewObjectLock(leases(), "default", "controller")
		if err != nil {
			t.Fatal(err)
		}
		e, err := election.New(election.Config{Lock: lock, Identity: id, LeaseDuration: 1500 * time.Millisecond,
			RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond,
			Callbacks: election.Callbacks{OnStartedLeading: func(ctx context.Context) { <-ctx.Done() }, OnStoppedLeading: func() {}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	run := func(e *election.Elector) (stop func()) {
		ectx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); e.Run(ectx) }()
		return func() { cancel(); <-done }
	}
	a := elector("a")
	stopA := run(a)
	waitFor(t, "a to lead", a.IsLeader)
	fenceA, ok := a.Fence()
	if !ok {
		t.Fatal("leader a has no fence")
	}
	if _, err := pods.Create(store.WithFence(ctx, fenceA), newPod("default", "by-a", nil)); err != nil {
		t.Fatalf("write under a's current term: %v", err)
	}
	stopA() // a stops renewing without releasing; b takes over after expiry
	b := elector("b")
	stopB := run(b)
	defer stopB()
	waitFor(t, "b to lead", b.IsLeader)
	if fenceB, _ := b.Fence(); fenceB.CreateRevision <= fenceA.CreateRevision {
		t.Fatalf("b's term %d is not after a's %d", fenceB.CreateRevision, fenceA.CreateRevision)
	}
	if _, err := pods.Create(store.WithFence(ctx, fenceA), newPod("default", "late-a", nil)); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("write under a's stale term: %v, want ErrFenced", err)
	}
	if _, err := pods.Get(ctx, "default", "late-a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the fenced write happened: %v", err)
	}
	fenceB, _ := b.Fence()
	if _, err := pods.Create(store.WithFence(ctx, fenceB), newPod("default", "by-b", nil)); err != nil {
		t.Fatalf("write under b's term: %v", err)
	}
}
