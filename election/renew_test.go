package election_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

// hangingLock is an ObjectLock whose renewals block, ignoring their
// context, once hang is set, until unblock is closed (a transport without a
// deadline). It records every call and fails the test if two calls overlap:
// a Lock serves one call at a time.
type hangingLock struct {
	*election.ObjectLock
	hang    atomic.Bool
	entered chan struct{} // receives when a hanging Renew starts
	unblock chan struct{}

	mu       sync.Mutex
	busy     bool
	calls    []string
	overlaps int
}

func (l *hangingLock) enter(name string) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy {
		l.overlaps++
	}
	l.busy = true
	l.calls = append(l.calls, name)
	return func() {
		l.mu.Lock()
		l.busy = false
		l.mu.Unlock()
	}
}

func (l *hangingLock) called(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (l *hangingLock) Get(ctx context.Context) (election.Observation, error) {
	defer l.enter("Get")()
	return l.ObjectLock.Get(ctx)
}

func (l *hangingLock) Acquire(ctx context.Context, spec election.LeaseSpec, prev election.Observation) (store.Fence, error) {
	defer l.enter("Acquire")()
	return l.ObjectLock.Acquire(ctx, spec, prev)
}

func (l *hangingLock) Renew(ctx context.Context, spec election.LeaseSpec) error {
	defer l.enter("Renew")()
	if l.hang.Load() {
		l.entered <- struct{}{}
		<-l.unblock
		return errors.New("renewal came back too late")
	}
	return l.ObjectLock.Renew(ctx, spec)
}

func (l *hangingLock) Release(ctx context.Context) error {
	defer l.enter("Release")()
	return l.ObjectLock.Release(ctx)
}

// Issue 12, case 9: with a Lock whose Renew blocks and ignores its context,
// the leader's context ends RenewDeadline after the start of the last
// successful renewal, with the renewal still in flight, as the package doc
// promises; the lock is not called again until that renewal returns; then
// the elector releases and campaigns again.
func TestLeadershipEndsAtRenewDeadlineWhileRenewHangs(t *testing.T) {
	const (
		lease = 3 * time.Second
		renew = 2 * time.Second
		retry = 250 * time.Millisecond
	)
	s := newLeaseStore(t)
	ol, err := election.NewObjectLock(s, "kube-system", "scheduler")
	if err != nil {
		t.Fatal(err)
	}
	lock := &hangingLock{ObjectLock: ol, entered: make(chan struct{}, 1), unblock: make(chan struct{})}
	clk := clockwork.NewFakeClockAt(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	ctxs := make(chan context.Context, 2)
	stoppedLeading := make(chan struct{}, 2)
	el, err := election.New(election.Config{
		Lock: lock, Identity: "a", Clock: clk,
		LeaseDuration: lease, RenewDeadline: renew, RetryPeriod: retry,
		Callbacks: election.Callbacks{
			OnStartedLeading: func(ctx context.Context) { ctxs <- ctx; <-ctx.Done() },
			OnStoppedLeading: func() { stoppedLeading <- struct{}{} },
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- el.Run(runCtx) }()
	unblocked := false
	defer func() {
		if !unblocked {
			close(lock.unblock)
		}
		cancel()
		if err := recv(t, done, "Run to return"); err != nil {
			t.Errorf("Run = %v", err)
		}
	}()

	leaderCtx := recv(t, ctxs, "a to lead")
	// One good renewal at +250ms: the deadline is now +2.25s.
	waitLeading(t, clk)
	clk.Advance(retry)
	waitFor(t, 10*time.Second, "the first renewal", func() bool { return lock.called("Renew") == 1 })

	// The next renewal, at +500ms, hangs.
	lock.hang.Store(true)
	waitLeading(t, clk)
	clk.Advance(retry)
	recv(t, lock.entered, "the hanging renewal to start")
	clk.Advance(renew - retry - time.Nanosecond) // to just before +2.25s
	if err := leaderCtx.Err(); err != nil {
		t.Fatalf("leader context ended (%v) before RenewDeadline after the last good renewal", err)
	}
	if !el.IsLeader() {
		t.Fatal("IsLeader false before the renew deadline")
	}
	clk.Advance(time.Nanosecond)
	select {
	case <-leaderCtx.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("leader context still live at the renew deadline with the renewal in flight (IsLeader=%v)", el.IsLeader())
	}
	if el.IsLeader() {
		t.Error("IsLeader true after the renew deadline")
	}
	if _, ok := el.Fence(); ok {
		t.Error("Fence still handed out after the renew deadline")
	}
	recv(t, stoppedLeading, "OnStoppedLeading")

	// The renewal is still in flight: the lock must not be released or
	// campaigned for until it returns.
	if a, r := lock.called("Acquire"), lock.called("Release"); a != 1 || r != 0 {
		t.Fatalf("while the renewal hangs: %d acquires and %d releases, want the first acquire only", a, r)
	}
	lock.hang.Store(false)
	close(lock.unblock)
	unblocked = true
	waitFor(t, 10*time.Second, "the release after the hung renewal", func() bool { return lock.called("Release") == 1 })
	// The lock is free again and a campaigns for it anew.
	recv(t, ctxs, "a to lead its second term")
	lock.mu.Lock()
	defer lock.mu.Unlock()
	if lock.overlaps != 0 {
		t.Errorf("%d lock calls overlapped; a Lock serves one call at a time", lock.overlaps)
	}
}
