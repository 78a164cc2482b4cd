package election

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
)

// ObjectLock is a Lock whose record is a Lease object in the typed store:
// it works over any store.Backend (etcd, memory, or a remote one). There is
// no server-side expiry: candidates judge a record expired when they have
// seen it unchanged for the lease duration on their own clock (never by
// comparing the record's RenewTime with their clock), and then take over by
// deleting exactly the record they saw (a resourceVersion precondition) and
// creating a new one.
//
// The term is the Lease's create revision: a takeover deletes and recreates
// the object, so terms only grow, and a deposed leader's fence
// {Key: the Lease's key, CreateRevision: its term} fails. Renewals are
// updates fenced by the term.
//
// An ObjectLock serves one Elector; Observe may share it.
type ObjectLock struct {
	s         *store.Store[*Lease]
	namespace string
	name      string
	key       string

	mu   sync.Mutex
	term int64 // 0 when not held
}

var (
	_ Lock        = (*ObjectLock)(nil)
	_ ExpiryJudge = (*ObjectLock)(nil)
)

var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// NewObjectLock returns a lock on the Lease namespace/name in s. The store
// must hold Leases of a namespaced resource (LeaseResource); name must be a
// DNS-1123 subdomain.
func NewObjectLock(s *store.Store[*Lease], namespace, name string) (*ObjectLock, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: object lock: store is nil", ErrInvalidConfig)
	}
	if !s.Resource().Namespaced {
		return nil, fmt.Errorf("%w: object lock: resource %q is cluster-scoped; use a namespaced Lease resource", ErrInvalidConfig, s.Resource().Name)
	}
	if namespace == "" {
		return nil, fmt.Errorf("%w: object lock: namespace is empty", ErrInvalidConfig)
	}
	if len(name) > 253 || !dns1123Subdomain.MatchString(name) {
		return nil, fmt.Errorf("%w: object lock: name %q is not a DNS-1123 subdomain", ErrInvalidConfig, name)
	}
	return &ObjectLock{s: s, namespace: namespace, name: name, key: s.Key(namespace, name)}, nil
}

// Key returns the backend key of the Lease; it is also the Key of every
// fence the lock hands out.
func (l *ObjectLock) Key() string { return l.key }

// String describes the lock for logs.
func (l *ObjectLock) String() string { return "object lock " + l.key }

// ExpiresByObservation returns true: candidates judge expiry.
func (l *ObjectLock) ExpiresByObservation() bool { return true }

// Get reads the Lease and its create revision (the term).
func (l *ObjectLock) Get(ctx context.Context) (Observation, error) {
	// A one-key range gives the read revision along with the key, which
	// Wait needs when the lock is free.
	rr, err := l.s.Backend().Range(ctx, l.key, store.RangeOptions{Limit: 1})
	if err != nil {
		return Observation{}, fmt.Errorf("election: read %s: %w", l.key, err)
	}
	obs := Observation{Revision: rr.Revision}
	if len(rr.KVs) == 0 || rr.KVs[0].Key != l.key {
		return obs, nil
	}
	kv := rr.KVs[0]
	var lease Lease
	if err := json.Unmarshal(kv.Value, &lease); err != nil {
		return Observation{}, fmt.Errorf("election: decode lock record %s: %w", l.key, err)
	}
	obs.Held, obs.Record, obs.Term, obs.Version = true, lease.Spec, kv.CreateRevision, kv.ModRevision
	return obs, nil
}

// Wait blocks until the Lease is written or deleted after revision rev.
// Every write wakes it: candidates need to see renewals to judge expiry.
func (l *ObjectLock) Wait(ctx context.Context, rev int64) error {
	w, err := l.s.Backend().Watch(ctx, l.key, rev)
	if err != nil {
		if errors.Is(err, store.ErrGone) {
			return nil // changes happened since rev: re-read
		}
		return fmt.Errorf("election: watch %s: %w", l.key, err)
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Object.Key == l.key {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if errors.Is(w.Err(), store.ErrGone) {
		return nil
	}
	return fmt.Errorf("election: watch %s ended: %w", l.key, w.Err())
}

// Acquire creates the Lease if it is absent. If prev.Held (the caller judged
// prev's record expired), it first deletes the Lease on condition that it is
// still exactly prev (same resourceVersion), so a renewal the caller did not
// see keeps the holder in place.
func (l *ObjectLock) Acquire(ctx context.Context, rec LeaseRecord, prev Observation) (store.Fence, error) {
	if prev.Held {
		_, err := l.s.Delete(ctx, l.namespace, l.name, store.WithPreconditionResourceVersion(store.FormatRevision(prev.Version)))
		switch {
		case err == nil, errors.Is(err, store.ErrNotFound):
		case errors.Is(err, store.ErrConflict):
			return store.Fence{}, fmt.Errorf("%w: %s was renewed since it was observed", ErrHeld, l.key)
		default:
			return store.Fence{}, fmt.Errorf("election: take over expired %s: %w", l.key, err)
		}
	}
	created, err := l.s.Create(ctx, &Lease{
		ObjectMeta: store.ObjectMeta{Namespace: l.namespace, Name: l.name},
		Spec:       rec,
	})
	if err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.Fence{}, fmt.Errorf("%w: %s exists", ErrHeld, l.key)
		}
		return store.Fence{}, fmt.Errorf("election: acquire %s: %w", l.key, err)
	}
	term, err := store.ParseRevision(created.ResourceVersion)
	if err != nil || term <= 0 {
		return store.Fence{}, fmt.Errorf("election: acquire %s: store returned resourceVersion %q: %v", l.key, created.ResourceVersion, err)
	}
	l.mu.Lock()
	l.term = term
	l.mu.Unlock()
	return store.Fence{Key: l.key, CreateRevision: term}, nil
}

// Renew writes rec to the Lease, fenced by the caller's term: it fails
// with ErrLost once another candidate has replaced the Lease.
func (l *ObjectLock) Renew(ctx context.Context, rec LeaseRecord) error {
	f, err := l.held()
	if err != nil {
		return err
	}
	_, err = l.s.Update(store.WithFence(ctx, f), &Lease{
		ObjectMeta: store.ObjectMeta{Namespace: l.namespace, Name: l.name},
		Spec:       rec,
	})
	if errors.Is(err, store.ErrFenced) || errors.Is(err, store.ErrNotFound) {
		l.forget(f.CreateRevision)
		return fmt.Errorf("%w: %s: term %d is over: %w", ErrLost, l.key, f.CreateRevision, err)
	}
	if err != nil {
		return fmt.Errorf("election: renew %s: %w", l.key, err)
	}
	return nil
}

// Release deletes the Lease if it is still the caller's term.
func (l *ObjectLock) Release(ctx context.Context) error {
	f, err := l.held()
	if err != nil {
		return err
	}
	_, err = l.s.Delete(store.WithFence(ctx, f), l.namespace, l.name)
	if err != nil && !errors.Is(err, store.ErrFenced) && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("election: release %s: %w", l.key, err)
	}
	l.forget(f.CreateRevision)
	return nil
}

func (l *ObjectLock) held() (store.Fence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.term == 0 {
		return store.Fence{}, fmt.Errorf("%w: %s", ErrNotHeld, l.key)
	}
	return store.Fence{Key: l.key, CreateRevision: l.term}, nil
}

func (l *ObjectLock) forget(term int64) {
	l.mu.Lock()
	if l.term == term {
		l.term = 0
	}
	l.mu.Unlock()
}
