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

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// Many candidates on one object lock (memory backend, real clock, short
// durations) start and stop at random, with and without release, while
// their leaders write fenced and keep writing for a while after they were
// told to stop. The accepted history must never go back to an older term,
// and every term has one writer.
func TestStressObjectLockFencedHistory(t *testing.T) {
	b := memory.New()
	defer b.Close()
	leases, err := store.New[*election.Lease](b, election.LeaseResource)
	if err != nil {
		t.Fatal(err)
	}
	works, err := store.New[*work](b, workResource)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		fenced  int
		started int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		id := fmt.Sprintf("s%d", i)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			seq := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				inner, err := election.NewObjectLock(leases, "kube-system", "stress")
				if err != nil {
					t.Error(err)
					return
				}
				lock := &pausingLock{ObjectLock: inner, rng: rand.New(rand.NewPCG(uint64(i), 9))}
				el, err := election.New(election.Config{
					Lock: lock, Identity: id, ReleaseOnCancel: rng.IntN(2) == 0,
					LeaseDuration: 150 * time.Millisecond, RenewDeadline: 100 * time.Millisecond, RetryPeriod: 20 * time.Millisecond,
					Callbacks: election.Callbacks{OnStartedLeading: func(ctx context.Context) {
						mu.Lock()
						started++
						mu.Unlock()
						term := store.FencesFrom(ctx)[0].CreateRevision
						late := rng.IntN(4) // writes after being told to stop
						wctx := context.WithoutCancel(ctx)
						stale := false
						for {
							if ctx.Err() != nil {
								if late == 0 {
									return
								}
								late--
								if !stale {
									// A paused process: its late writes come
									// after the lease could have expired and
									// passed to another candidate.
									stale = true
									time.Sleep(300 * time.Millisecond)
								}
							}
							seq++
							_, err := works.Create(wctx, &work{
								ObjectMeta: store.ObjectMeta{Namespace: "hist", Name: fmt.Sprintf("%s-%d", id, seq)},
								Spec:       workSpec{Term: term, Writer: id},
							})
							if errors.Is(err, store.ErrFenced) {
								mu.Lock()
								fenced++
								mu.Unlock()
								return
							}
							if err != nil {
								t.Errorf("%s: write: %v", id, err)
								return
							}
							if rng.IntN(50) == 0 {
								time.Sleep(200 * time.Millisecond) // a pause
							} else {
								time.Sleep(time.Millisecond)
							}
						}
					}},
				})
				if err != nil {
					t.Error(err)
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(50+rng.IntN(300))*time.Millisecond)
				if err := el.Run(ctx); err != nil {
					t.Errorf("%s: Run = %v", id, err)
				}
				cancel()
			}
		})
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()

	list, err := works.List(context.Background(), "hist", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		rev  int64
		spec workSpec
	}
	var hist []entry
	for _, w := range list.Items {
		rev, _ := store.ParseRevision(w.ResourceVersion)
		hist = append(hist, entry{rev, w.Spec})
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].rev < hist[j].rev })
	writerOf := map[int64]string{}
	for i, e := range hist {
		if w, ok := writerOf[e.spec.Term]; ok && w != e.spec.Writer {
			t.Fatalf("term %d has two writers, %s and %s", e.spec.Term, w, e.spec.Writer)
		}
		writerOf[e.spec.Term] = e.spec.Writer
		if i > 0 && e.spec.Term < hist[i-1].spec.Term {
			t.Fatalf("revision %d: write for term %d after a write for term %d", e.rev, e.spec.Term, hist[i-1].spec.Term)
		}
	}
	if fenced == 0 {
		t.Error("no write was fenced; the stress never produced a stale leader")
	}
	if len(writerOf) < 5 {
		t.Errorf("only %d terms wrote; the stress did not change leaders enough", len(writerOf))
	}
	t.Logf("%d writes, %d terms, %d leaderships, %d fenced writes", len(hist), len(writerOf), started, fenced)
}

// pausingLock stalls one renewal in ten for longer than the lease, ignoring
// its context, as a paused process would.
type pausingLock struct {
	*election.ObjectLock
	mu  sync.Mutex
	rng *rand.Rand
}

func (l *pausingLock) Renew(ctx context.Context, rec election.LeaseSpec) error {
	l.mu.Lock()
	pause := l.rng.IntN(10) == 0
	l.mu.Unlock()
	if pause {
		time.Sleep(200 * time.Millisecond)
	}
	return l.ObjectLock.Renew(ctx, rec)
}
