package election_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/election/internal/faultproxy"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcd"
)

// work is what leaders write: one object per accepted write.
type work struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             workSpec `json:"spec"`
}

type workSpec struct {
	Term   int64  `json:"term"`
	Writer string `json:"writer"`
}

var workResource = store.Resource{Name: "works", APIVersion: "test.setpoint.dev/v1", Kind: "Work", Namespaced: true}

// gate blocks a writer while its process is "paused".
type gate struct {
	mu sync.Mutex
	ch chan struct{} // closed when open
}

func newGate() *gate   { g := &gate{ch: make(chan struct{})}; close(g.ch); return g }
func (g *gate) pause() { g.mu.Lock(); g.ch = make(chan struct{}); g.mu.Unlock() }
func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
	default:
		close(g.ch)
	}
}
func (g *gate) wait() { g.mu.Lock(); ch := g.ch; g.mu.Unlock(); <-ch }

type termStart struct {
	id   string
	term int64
}

type fencedCandidate struct {
	id     string
	proxy  *faultproxy.Proxy
	el     *election.Elector
	gate   *gate
	cancel context.CancelFunc
	done   chan error
}

// fencingHarness runs candidates whose leaders write work objects in a
// loop, fenced by their term, ignoring their leader context: only fencing
// keeps a deposed leader's writes out.
type fencingHarness struct {
	t      *testing.T
	starts chan termStart
	quit   chan struct{}

	mu     sync.Mutex
	fenced map[termStart]int // fenced writes per (writer, term)
}

func (h *fencingHarness) writer(id string, ws *store.Store[*work], g *gate) func(ctx context.Context) {
	return func(ctx context.Context) {
		fences := store.FencesFrom(ctx)
		if len(fences) != 1 {
			h.t.Errorf("%s: leader context carries %d fences, want 1", id, len(fences))
			return
		}
		term := fences[0].CreateRevision
		h.starts <- termStart{id, term}
		wctx := context.WithoutCancel(ctx) // keeps the fence, ignores the loss
		for seq := 0; ; seq++ {
			g.wait()
			_, err := ws.Create(wctx, &work{
				ObjectMeta: store.ObjectMeta{Namespace: "hist", Name: fmt.Sprintf("%s-t%d-%d", id, term, seq)},
				Spec:       workSpec{Term: term, Writer: id},
			})
			if errors.Is(err, store.ErrFenced) {
				h.mu.Lock()
				h.fenced[termStart{id, term}]++
				h.mu.Unlock()
				return
			}
			select {
			case <-h.quit:
				if ctx.Err() != nil {
					return
				}
			default:
			}
			time.Sleep(3 * time.Millisecond)
		}
	}
}

func (h *fencingHarness) fencedCount(id string, term int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fenced[termStart{id, term}]
}

type lockMaker func(t *testing.T, c *clientv3.Client) election.Lock

func TestFencingHistory(t *testing.T) {
	for _, tc := range []struct {
		name string
		lock lockMaker
	}{
		{"etcd-lease-lock", func(t *testing.T, c *clientv3.Client) election.Lock {
			l, err := etcdlock.New(c, "/election/fencing")
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
		{"object-lock", func(t *testing.T, c *clientv3.Client) election.Lock {
			s, err := store.New[*election.Lease](etcd.New(c), election.LeaseResource)
			if err != nil {
				t.Fatal(err)
			}
			l, err := election.NewObjectLock(s, "kube-system", "fencing")
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runFencingHistory(t, tc.lock) })
	}
}

func runFencingHistory(t *testing.T, makeLock lockMaker) {
	endpoint := startEtcd(t)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d", seed)
	h := &fencingHarness{t: t, starts: make(chan termStart, 64), quit: make(chan struct{}), fenced: map[termStart]int{}}
	cands := map[string]*fencedCandidate{}
	for i := range 3 {
		id := fmt.Sprintf("c%d", i)
		p, err := faultproxy.New(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		c := newClient(t, p.Addr())
		ws, err := store.New[*work](etcd.New(c), workResource)
		if err != nil {
			t.Fatal(err)
		}
		fc := &fencedCandidate{id: id, proxy: p, gate: newGate(), done: make(chan error, 1)}
		fc.el, err = election.New(election.Config{
			Lock: makeLock(t, c), Identity: id, ReleaseOnCancel: true,
			LeaseDuration: time.Second, RenewDeadline: 700 * time.Millisecond, RetryPeriod: 200 * time.Millisecond,
			Callbacks: election.Callbacks{OnStartedLeading: h.writer(id, ws, fc.gate)},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		fc.cancel = cancel
		go func() { fc.done <- fc.el.Run(ctx) }()
		cands[id] = fc
	}
	stopAll := func() {
		for _, fc := range cands {
			fc.proxy.Restore()
			fc.gate.resume()
		}
		select {
		case <-h.quit:
		default:
			close(h.quit)
		}
		for _, fc := range cands {
			fc.cancel()
		}
		for _, fc := range cands {
			select {
			case err := <-fc.done:
				if err != nil {
					t.Errorf("%s: Run = %v", fc.id, err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("%s: Run did not return", fc.id)
			}
		}
	}
	stopped := false
	defer func() {
		if !stopped {
			stopAll()
		}
	}()

	var cur termStart
	nextStart := func(after int64) termStart {
		t.Helper()
		for {
			select {
			case s := <-h.starts:
				if s.term > after {
					return s
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no new leader after term %d within 30s", after)
			}
		}
	}
	cur = nextStart(0)
	const rounds = 6
	for round := range rounds {
		// Let the leader write for a moment; catch up with any spurious
		// leader change first.
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
	drain:
		for {
			select {
			case s := <-h.starts:
				cur = s
			default:
				break drain
			}
		}
		old := cands[cur.id]
		action := []string{"partition", "pause", "drop"}[rng.IntN(3)]
		t.Logf("round %d: %s leader %s (term %d)", round, action, cur.id, cur.term)
		switch action {
		case "partition":
			old.proxy.Stall()
		case "pause":
			old.gate.pause()
			old.proxy.Stall()
		case "drop":
			old.proxy.Drop()
		}
		next := nextStart(cur.term)
		if next.id == cur.id {
			t.Fatalf("round %d: the cut-off leader %s won again (term %d)", round, cur.id, next.term)
		}
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond) // the new leader writes
		old.proxy.Restore()
		old.gate.resume()
		// The old leader's writer resumes with its stale fence and must be
		// rejected.
		waitFor(t, 30*time.Second, fmt.Sprintf("%s's term-%d writes to be fenced", cur.id, cur.term), func() bool {
			return h.fencedCount(cur.id, cur.term) > 0
		})
		cur = next
	}
	time.Sleep(100 * time.Millisecond)
	stopAll()
	stopped = true

	// The history, in store revision order.
	reader, err := store.New[*work](etcd.New(newClient(t, endpoint)), workResource)
	if err != nil {
		t.Fatal(err)
	}
	list, err := reader.List(context.Background(), "hist", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		rev  int64
		spec workSpec
	}
	var hist []entry
	for _, w := range list.Items {
		rev, err := store.ParseRevision(w.ResourceVersion)
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, entry{rev, w.Spec})
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].rev < hist[j].rev })
	writerOf := map[int64]string{}
	terms := 0
	for i, e := range hist {
		if w, ok := writerOf[e.spec.Term]; ok && w != e.spec.Writer {
			t.Fatalf("term %d has two writers, %s and %s", e.spec.Term, w, e.spec.Writer)
		}
		if _, ok := writerOf[e.spec.Term]; !ok {
			terms++
		}
		writerOf[e.spec.Term] = e.spec.Writer
		if i > 0 && e.spec.Term < hist[i-1].spec.Term {
			t.Fatalf("at revision %d %s wrote for term %d after %s wrote for the newer term %d at revision %d",
				e.rev, e.spec.Writer, e.spec.Term, hist[i-1].spec.Writer, hist[i-1].spec.Term, hist[i-1].rev)
		}
	}
	if terms < rounds {
		t.Errorf("history holds writes of %d terms, want at least %d (one per round)", terms, rounds)
	}
	t.Logf("%d accepted writes over %d terms", len(hist), terms)
}
