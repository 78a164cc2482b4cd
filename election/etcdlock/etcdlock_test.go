package etcdlock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

func TestNewRejectsBadInput(t *testing.T) {
	c := etcdtest.Start(t).Client()
	for _, key := range []string{"", "/", "relative/key", "/trailing/"} {
		if _, err := etcdlock.New(c, key); !errors.Is(err, election.ErrInvalidConfig) {
			t.Errorf("New(%q) = %v, want ErrInvalidConfig", key, err)
		}
	}
	if _, err := etcdlock.New(nil, "/k"); !errors.Is(err, election.ErrInvalidConfig) {
		t.Errorf("New(nil client) = %v, want ErrInvalidConfig", err)
	}
}

// The etcd lock's lifecycle: a prepared lease is used (and refreshed) by
// the acquisition, failed attempts do not leak leases, renew and release
// are guarded by the term, and a lost term is reported as ErrLost.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	c := etcdtest.Start(t).Client()
	const key = "/election/lifecycle"
	a, _ := etcdlock.New(c, key)
	b, _ := etcdlock.New(c, key)
	leases := func() int {
		t.Helper()
		r, err := c.Leases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Leases)
	}
	rec := func(id string) election.LeaseSpec {
		secs := int32(5)
		return election.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs}
	}
	if err := a.Renew(ctx, rec("a")); !errors.Is(err, election.ErrNotHeld) {
		t.Errorf("Renew before Acquire = %v, want ErrNotHeld", err)
	}
	noDuration := rec("a")
	noDuration.LeaseDurationSeconds = nil
	if _, err := a.Acquire(ctx, noDuration, election.Observation{}); !errors.Is(err, election.ErrInvalidConfig) {
		t.Errorf("Acquire with a zero lease duration = %v, want ErrInvalidConfig", err)
	}
	if obs, err := b.Get(ctx); err != nil || obs.Held || leases() != 0 {
		t.Fatalf("after a rejected Acquire: Get = %+v, %v, %d leases; want nothing written", obs, err, leases())
	}
	fa, err := a.Acquire(ctx, rec("a"), election.Observation{})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := b.Get(ctx)
	if err != nil || !obs.Held || obs.Term != fa.CreateRevision || obs.Spec.Holder() != "a" || fa.Key != key {
		t.Fatalf("Get = %+v, %v; want a holding term %d", obs, err, fa.CreateRevision)
	}
	// b prepares a lease, fails to acquire a held lock a few times, and
	// keeps a single spare lease meanwhile.
	b.Prepare(ctx, rec("b"))
	for range 3 {
		if _, err := b.Acquire(ctx, rec("b"), obs); !errors.Is(err, election.ErrHeld) {
			t.Fatalf("Acquire of a held lock = %v, want ErrHeld", err)
		}
		b.Prepare(ctx, rec("b"))
	}
	waitForLeases(t, c, 2) // a's, and b's one spare: the others were revoked

	if err := a.Renew(ctx, rec("a")); err != nil {
		t.Fatalf("Renew = %v", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatalf("Release = %v", err)
	}
	if err := a.Release(ctx); !errors.Is(err, election.ErrNotHeld) {
		t.Errorf("second Release = %v, want ErrNotHeld", err)
	}
	fb, err := b.Acquire(ctx, rec("b"), election.Observation{})
	if err != nil {
		t.Fatal(err)
	}
	if fb.CreateRevision <= fa.CreateRevision {
		t.Errorf("term went from %d to %d, want it to grow", fa.CreateRevision, fb.CreateRevision)
	}
	g, err := c.Get(ctx, key)
	if err != nil || len(g.Kvs) != 1 {
		t.Fatalf("get %s: %v", key, err)
	}
	ttl, err := c.TimeToLive(ctx, clientv3.LeaseID(g.Kvs[0].Lease))
	if err != nil || ttl.TTL < 4 {
		t.Errorf("the key's lease has TTL %d (%v), want a fresh 5s lease", ttl.TTL, err)
	}
	if leases() != 1 {
		t.Errorf("%d leases after b acquired, want 1 (the prepared one, now holding the key)", leases())
	}
	// Someone deletes the key behind b's back: b's term is over.
	if _, err := c.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := b.Renew(ctx, rec("b")); !errors.Is(err, election.ErrLost) {
		t.Errorf("Renew after the key was deleted = %v, want ErrLost", err)
	}
}

// waitForLeases polls until the server has exactly n leases (locks revoke
// stray leases in the background), or fails the test after 10s.
func waitForLeases(t *testing.T, c *clientv3.Client, n int) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		r, err := c.Leases(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Leases) == n {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%d leases after 10s, want %d", len(r.Leases), n)
		case <-poll.C:
		}
	}
}
