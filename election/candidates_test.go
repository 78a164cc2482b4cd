package election_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/election/internal/faultproxy"
	"github.com/setpoint-dev/setpoint/store"
)

// leadership records who acted as leader when, and fails the test if two
// candidates ever act at once.
type leadership struct {
	t       *testing.T
	mu      sync.Mutex
	acting  map[string]int64 // identity -> term, while OnStartedLeading runs
	started chan startEvent
	max     int
}

type startEvent struct {
	id   string
	term int64
	at   time.Time
}

func newLeadership(t *testing.T) *leadership {
	return &leadership{t: t, acting: map[string]int64{}, started: make(chan startEvent, 64)}
}

// callback returns an OnStartedLeading for id that acts until ctx ends.
func (l *leadership) callback(id string) func(ctx context.Context) {
	return func(ctx context.Context) {
		at := time.Now()
		fences := store.FencesFrom(ctx)
		var term int64
		if len(fences) == 1 {
			term = fences[0].CreateRevision
		}
		l.mu.Lock()
		l.acting[id] = term
		if n := len(l.acting); n > l.max {
			l.max = n
		}
		if len(l.acting) > 1 {
			l.t.Errorf("two leaders act at once: %v", l.acting)
		}
		l.mu.Unlock()
		l.started <- startEvent{id, term, at}
		<-ctx.Done()
		l.mu.Lock()
		delete(l.acting, id)
		l.mu.Unlock()
	}
}

// maxActing returns the most candidates that ever acted at once.
func (l *leadership) maxActing() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max
}

// next waits for the next OnStartedLeading.
func (l *leadership) next(t *testing.T, within time.Duration) startEvent {
	t.Helper()
	select {
	case ev := <-l.started:
		return ev
	case <-time.After(within):
		t.Fatalf("no candidate became leader within %v", within)
		return startEvent{}
	}
}

type candidate struct {
	id     string
	proxy  *faultproxy.Proxy
	client *clientv3.Client
	lock   *etcdlock.Lock
	el     *election.Elector
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startCandidate(t *testing.T, endpoint, key, id string, l *leadership, tune func(*election.Config)) *candidate {
	t.Helper()
	p, err := faultproxy.New(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := newClient(t, p.Addr())
	lock, err := etcdlock.New(c, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := election.Config{
		Lock:          lock,
		Identity:      id,
		LeaseDuration: 2 * time.Second,
		RenewDeadline: 1500 * time.Millisecond,
		RetryPeriod:   900 * time.Millisecond,
		Callbacks:     election.Callbacks{OnStartedLeading: l.callback(id)},
	}
	if tune != nil {
		tune(&cfg)
	}
	el, err := election.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cd := &candidate{id: id, proxy: p, client: c, lock: lock, el: el, cancel: cancel, done: make(chan error, 1)}
	go func() { cd.done <- el.Run(ctx) }()
	t.Cleanup(func() { cd.stop(t) })
	return cd
}

// stop cancels Run and waits for it to return.
func (c *candidate) stop(t *testing.T) {
	c.cancel()
	c.once.Do(func() {
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("%s: Run returned %v", c.id, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s: Run did not return 30s after cancel", c.id)
		}
	})
}

func TestThreeCandidatesFailover(t *testing.T) {
	endpoint := startEtcd(t)
	l := newLeadership(t)
	byID := map[string]*candidate{}
	var mu sync.Mutex
	for i := range 3 {
		id := fmt.Sprintf("cand-%d", i)
		c := startCandidate(t, endpoint, "/election/three", id, l, func(cfg *election.Config) {
			cfg.ReleaseOnCancel = true
		})
		mu.Lock()
		byID[id] = c
		mu.Unlock()
	}

	first := l.next(t, 20*time.Second)
	if first.term <= 0 {
		t.Fatalf("leader %s started with term %d, want > 0", first.id, first.term)
	}
	leader := byID[first.id]
	// Exactly one leads: every candidate agrees on the holder, and only the
	// leader says it leads.
	waitFor(t, 10*time.Second, "all candidates to observe the leader", func() bool {
		for _, c := range byID {
			if c.el.Leader() != first.id {
				return false
			}
		}
		return true
	})
	for id, c := range byID {
		if got, want := c.el.IsLeader(), id == first.id; got != want {
			t.Errorf("%s: IsLeader() = %v, want %v", id, got, want)
		}
	}
	if got := leader.el.Term(); got != first.term {
		t.Errorf("leader Term() = %d, want the fence's %d", got, first.term)
	}

	// Kill the leader's connection: another candidate takes over within
	// LeaseDuration plus RetryPeriod.
	dropped := time.Now()
	leader.proxy.Drop()
	second := l.next(t, 20*time.Second)
	failover := second.at.Sub(dropped)
	if second.id == first.id {
		t.Fatalf("the cut-off leader %s was re-elected", first.id)
	}
	if second.term <= first.term {
		t.Errorf("term did not grow: %d then %d", first.term, second.term)
	}
	// The contract is LeaseDuration+RetryPeriod (2.9 s); twice that leaves
	// room for a loaded machine's scheduling delays and still fails if the
	// takeover waited on anything but the lease (a TCP or keepalive
	// timeout of the dropped connection takes far longer).
	if limit := 2 * (2*time.Second + 900*time.Millisecond); failover > limit {
		t.Errorf("failover after the leader's connection dropped took %v, want <= 2*(LeaseDuration+RetryPeriod) = %v", failover, limit)
	}
	t.Logf("failover after connection drop: %v", failover)
	waitFor(t, 10*time.Second, "the cut-off leader to step down", func() bool { return !leader.el.IsLeader() })

	// Release on cancel hands over at once: far sooner than the lease would
	// expire.
	leader.stop(t)
	delete(byID, first.id)
	second2 := byID[second.id]
	released := time.Now()
	second2.cancel()
	third := l.next(t, 20*time.Second)
	handover := third.at.Sub(released)
	if third.id == second.id || third.id == first.id {
		t.Fatalf("after release, %s leads; want the remaining candidate", third.id)
	}
	if third.term <= second.term {
		t.Errorf("term did not grow: %d then %d", second.term, third.term)
	}
	if handover >= time.Second {
		t.Errorf("handover after release took %v; a release must not wait for the 2s lease to expire", handover)
	}
	t.Logf("handover after release: %v", handover)
	if m := l.maxActing(); m != 1 {
		t.Errorf("at most %d leaders acted at once, want exactly 1", m)
	}
}

// waitFor polls cond until it holds or fails the test after within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", within, what)
		case <-poll.C:
		}
	}
}
