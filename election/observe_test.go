package election_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestObserveFollowsLeaderChanges(t *testing.T) {
	endpoint := startEtcd(t)
	const key = "/election/observe"
	follower, err := etcdlock.New(newClient(t, endpoint), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := election.Observe(ctx, follower, election.WithObserveRetry(200*time.Millisecond))

	l := newLeadership(t)
	a := startCandidate(t, endpoint, key, "a", l, func(c *election.Config) { c.ReleaseOnCancel = true })
	l.next(t, 20*time.Second)
	ev := nextEvent(t, w)
	if ev.Type != watch.Added || ev.Object.Identity != "a" || ev.Object.Term <= 0 {
		t.Fatalf("first event %+v, want Added for a with a term", ev)
	}
	if ev.Object.Spec.Duration() != 2*time.Second || ev.Object.Spec.AcquireTime == nil || ev.Object.Spec.AcquireTime.IsZero() {
		t.Errorf("observed record %+v, want leaseDurationSeconds 2 and an acquire time", ev.Object.Spec)
	}
	a.stop(t) // releases
	gone := nextEvent(t, w)
	if gone.Type != watch.Deleted || gone.Object.Identity != "a" || gone.Revision <= ev.Revision {
		t.Fatalf("after release got %+v, want Deleted for a after revision %d", gone, ev.Revision)
	}
	startCandidate(t, endpoint, key, "b", l, nil)
	l.next(t, 20*time.Second)
	b := nextEvent(t, w)
	if b.Type != watch.Added || b.Object.Identity != "b" || b.Object.Term <= ev.Object.Term || b.Revision <= gone.Revision {
		t.Fatalf("got %+v, want Added for b with a term above %d", b, ev.Object.Term)
	}

	w.Stop()
	for range w.Events() {
	}
	if err := w.Err(); !errors.Is(err, watch.ErrStopped) {
		t.Errorf("Err() after Stop = %v, want ErrStopped", err)
	}
}

func nextEvent(t *testing.T, w watch.Watcher[election.LeaderChange]) watch.Event[election.LeaderChange] {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("observe stream ended: %v", w.Err())
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no leader change observed within 20s")
		return watch.Event[election.LeaderChange]{}
	}
}
