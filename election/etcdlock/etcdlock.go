package etcdlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

// Lock is an election.Lock whose record lives under one etcd key bound to
// an etcd lease; the package documentation states its contract. A Lock
// serves one election.Elector; election.Observe may share it.
type Lock struct {
	client *clientv3.Client
	key    string

	mu    sync.Mutex
	lease clientv3.LeaseID // 0 when not held
	term  int64
	spare spareLease // granted ahead of time by Prepare
}

// spareLease is an etcd lease granted while waiting, so that taking a free
// lock is a single transaction.
type spareLease struct {
	id      clientv3.LeaseID // 0: none
	ttl     int64
	renewed time.Time // when it was last granted or kept alive
}

var (
	_ election.Lock     = (*Lock)(nil)
	_ election.Preparer = (*Lock)(nil)
)

// New returns a lock on key, which must be a non-empty absolute path such
// as "/setpoint/election/scheduler"; otherwise it returns an error wrapping
// election.ErrInvalidConfig. The caller keeps ownership of client.
func New(client *clientv3.Client, key string) (*Lock, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: etcd lock: client is nil", election.ErrInvalidConfig)
	}
	if !strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || len(key) < 2 {
		return nil, fmt.Errorf("%w: etcd lock: key %q must be an absolute path not ending in /", election.ErrInvalidConfig, key)
	}
	return &Lock{client: client, key: key}, nil
}

// Key returns the etcd key of the lock record; it is also the Key of every
// fence the lock hands out.
func (l *Lock) Key() string { return l.key }

// String describes the lock for logs.
func (l *Lock) String() string { return "etcd lease lock " + l.key }

// Get reads the record.
func (l *Lock) Get(ctx context.Context) (election.Observation, error) {
	resp, err := l.client.Get(ctx, l.key)
	if err != nil {
		return election.Observation{}, fmt.Errorf("etcdlock: read %s: %w", l.key, err)
	}
	obs := election.Observation{Revision: resp.Header.Revision}
	if len(resp.Kvs) == 0 {
		return obs, nil
	}
	return l.observe(obs, resp.Kvs[0])
}

func (l *Lock) observe(obs election.Observation, kv *mvccpb.KeyValue) (election.Observation, error) {
	var lease election.Lease
	if err := json.Unmarshal(kv.Value, &lease); err != nil {
		return election.Observation{}, fmt.Errorf("etcdlock: decode lock record %s: %w", l.key, err)
	}
	obs.Held = true
	obs.Spec = lease.Spec
	obs.Term = kv.CreateRevision
	obs.Version = kv.ModRevision
	return obs, nil
}

// Wait blocks until the key is created or deleted after revision rev. Renewals
// of the current holder do not wake it: the server, not the candidates,
// decides when the record expires.
func (l *Lock) Wait(ctx context.Context, rev int64) error {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := l.client.Watch(wctx, l.key, clientv3.WithRev(rev+1))
	for resp := range wch {
		if resp.CompactRevision != 0 {
			return nil // changes after rev were compacted: re-read
		}
		if err := resp.Err(); err != nil {
			return fmt.Errorf("etcdlock: watch %s: %w", l.key, err)
		}
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete || ev.IsCreate() {
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("etcdlock: watch %s ended", l.key)
}

// Acquire grants an etcd lease of spec.LeaseDurationSeconds (the server may
// round it up to its minimum) and creates the key bound to it, if the key
// does not exist. It never replaces an existing record, even one prev
// judged expired: expiry is the server's to decide.
func (l *Lock) Acquire(ctx context.Context, spec election.LeaseSpec, prev election.Observation) (store.Fence, error) {
	ttl := int64(spec.Duration() / time.Second)
	if ttl < 1 {
		return store.Fence{}, fmt.Errorf("%w: etcd lock: lease duration %ds must be at least 1s", election.ErrInvalidConfig, ttl)
	}
	val, err := l.encode(spec)
	if err != nil {
		return store.Fence{}, err
	}
	id, renewed := l.takeSpare(ttl)
	prepared := id != 0
	if !prepared {
		renewed = time.Now()
		grant, err := l.client.Grant(ctx, ttl)
		if err != nil {
			return store.Fence{}, fmt.Errorf("etcdlock: grant lease for %s: %w", l.key, err)
		}
		id = grant.ID
	}
	resp, err := l.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(l.key), "=", 0)).
		Then(clientv3.OpPut(l.key, string(val), clientv3.WithLease(id))).
		Else(clientv3.OpGet(l.key)).
		Commit()
	if err != nil || !resp.Succeeded {
		if err != nil {
			// The lease may now hold the key (an ambiguous failure):
			// revoking it deletes the key if so.
			l.revoke(id)
			if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				return store.Fence{}, fmt.Errorf("etcdlock: acquire %s: prepared lease expired: %w", l.key, err)
			}
			return store.Fence{}, fmt.Errorf("etcdlock: acquire %s: %w", l.key, err)
		}
		l.keepSpareAt(id, ttl, renewed) // unused: keep it for the next attempt
		holder := "?"
		if rr := resp.Responses[0].GetResponseRange(); rr != nil && len(rr.Kvs) == 1 {
			if obs, derr := l.observe(election.Observation{}, rr.Kvs[0]); derr == nil {
				holder = obs.Spec.Holder()
			}
		}
		return store.Fence{}, fmt.Errorf("%w: %s is held by %q", election.ErrHeld, l.key, holder)
	}
	if prepared {
		// The prepared lease's countdown began before this call; refresh
		// it so the server's expiry is at least TTL after the caller's
		// start, as the elector's renew deadline assumes.
		ka, err := l.client.KeepAliveOnce(ctx, id)
		if err != nil || ka.TTL <= 0 {
			l.revoke(id) // deletes the key just created
			return store.Fence{}, fmt.Errorf("etcdlock: acquire %s: refresh prepared lease: %v", l.key, err)
		}
	}
	l.mu.Lock()
	l.lease, l.term = id, resp.Header.Revision
	l.mu.Unlock()
	return store.Fence{Key: l.key, CreateRevision: resp.Header.Revision}, nil
}

// Prepare grants an etcd lease of spec.LeaseDurationSeconds ahead of time,
// or keeps the one already granted alive, so that the next Acquire of a free
// lock needs one transaction instead of a grant and a transaction. The
// lease holds no key until Acquire uses it; unused, it expires on its own.
func (l *Lock) Prepare(ctx context.Context, spec election.LeaseSpec) {
	ttl := int64(spec.Duration() / time.Second)
	if ttl < 1 {
		return
	}
	l.mu.Lock()
	sp := l.spare
	l.mu.Unlock()
	now := time.Now()
	switch {
	case sp.id != 0 && sp.ttl == ttl && now.Sub(sp.renewed) < time.Duration(ttl)*time.Second/3:
		return // fresh enough
	case sp.id != 0 && sp.ttl == ttl:
		if ka, err := l.client.KeepAliveOnce(ctx, sp.id); err == nil && ka.TTL > 0 {
			l.keepSpareAt(sp.id, ttl, now)
			return
		}
		l.dropSpare(sp.id)
	case sp.id != 0:
		l.dropSpare(sp.id)
		l.revoke(sp.id)
	}
	grant, err := l.client.Grant(ctx, ttl)
	if err != nil {
		return
	}
	l.keepSpareAt(grant.ID, ttl, now)
}

// takeSpare returns the prepared lease and when it was last refreshed, if
// it has at least a quarter of its TTL left, and forgets it; else 0.
func (l *Lock) takeSpare(ttl int64) (clientv3.LeaseID, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	sp := l.spare
	l.spare = spareLease{}
	if sp.id == 0 || sp.ttl != ttl || time.Since(sp.renewed) > time.Duration(ttl)*time.Second*3/4 {
		if sp.id != 0 {
			l.revoke(sp.id)
		}
		return 0, time.Time{}
	}
	return sp.id, sp.renewed
}

func (l *Lock) keepSpareAt(id clientv3.LeaseID, ttl int64, renewed time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spare.id != 0 && l.spare.id != id {
		l.revoke(l.spare.id)
	}
	l.spare = spareLease{id: id, ttl: ttl, renewed: renewed}
}

func (l *Lock) dropSpare(id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.spare.id == id {
		l.spare = spareLease{}
	}
}

// Renew refreshes the lease and rewrites the record, guarded by the term.
func (l *Lock) Renew(ctx context.Context, spec election.LeaseSpec) error {
	l.mu.Lock()
	lease, term := l.lease, l.term
	l.mu.Unlock()
	if lease == 0 {
		return fmt.Errorf("%w: %s", election.ErrNotHeld, l.key)
	}
	ka, err := l.client.KeepAliveOnce(ctx, lease)
	if err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			l.forget(lease)
			return fmt.Errorf("%w: %s: lease %x expired on the server", election.ErrLost, l.key, int64(lease))
		}
		return fmt.Errorf("etcdlock: renew lease for %s: %w", l.key, err)
	}
	if ka.TTL <= 0 {
		l.forget(lease)
		return fmt.Errorf("%w: %s: lease %x expired on the server", election.ErrLost, l.key, int64(lease))
	}
	val, err := l.encode(spec)
	if err != nil {
		return err
	}
	resp, err := l.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(l.key), "=", term)).
		Then(clientv3.OpPut(l.key, string(val), clientv3.WithLease(lease))).
		Commit()
	if err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			l.forget(lease)
			return fmt.Errorf("%w: %s: lease %x expired on the server", election.ErrLost, l.key, int64(lease))
		}
		return fmt.Errorf("etcdlock: renew %s: %w", l.key, err)
	}
	if !resp.Succeeded {
		l.forget(lease)
		l.revoke(lease)
		return fmt.Errorf("%w: %s: term %d is over", election.ErrLost, l.key, term)
	}
	return nil
}

// Release revokes the term's etcd lease, which deletes the record in the
// same step if it is still the caller's (the key is bound to that lease, and
// only to it while the term lasts; a later holder's key is bound to another
// lease and is untouched). One write, so the next candidate can take over
// at once.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	lease := l.lease
	l.mu.Unlock()
	if lease == 0 {
		return fmt.Errorf("%w: %s", election.ErrNotHeld, l.key)
	}
	if _, err := l.client.Revoke(ctx, lease); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("etcdlock: release %s: revoke lease %x: %w", l.key, int64(lease), err)
	}
	l.forget(lease)
	return nil
}

func (l *Lock) forget(lease clientv3.LeaseID) {
	l.mu.Lock()
	if l.lease == lease {
		l.lease, l.term = 0, 0
	}
	l.mu.Unlock()
}

// revoke revokes a lease in the background, best effort: the server expires
// it anyway.
func (l *Lock) revoke(id clientv3.LeaseID) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = l.client.Revoke(ctx, id)
	}()
}

func (l *Lock) encode(spec election.LeaseSpec) ([]byte, error) {
	lease := election.Lease{
		TypeMeta:   store.TypeMeta{APIVersion: election.LeaseAPIVersion, Kind: election.LeaseKind},
		ObjectMeta: store.ObjectMeta{Name: path.Base(l.key)},
		Spec:       spec,
	}
	b, err := json.Marshal(&lease)
	if err != nil {
		return nil, fmt.Errorf("etcdlock: encode lock record %s: %w", l.key, err)
	}
	return b, nil
}
