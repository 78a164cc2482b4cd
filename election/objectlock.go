package election

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
)

// TermAnnotation is the annotation in which the object lock's holder
// records its term, so that followers (which see only resourceVersions)
// know it too.
const TermAnnotation = "election.setpoint.dev/term"

// LeaseStore is what the object lock needs from a store: typed access to
// Leases (store.Interface, which *store.Store[*Lease] and remote clients
// implement) and the backend key of a Lease, which names the lock in
// fences.
type LeaseStore interface {
	store.Interface[*Lease]
	// Key returns the backend key of the Lease namespace/name.
	Key(namespace, name string) string
}

var _ LeaseStore = (*store.Store[*Lease])(nil)

// ObjectLock is a Lock whose record is a Lease object in a typed store: it
// works through any LeaseStore (the typed store over etcd or memory, or a
// remote client). There is no server-side expiry: candidates judge a record
// expired when they have seen it unchanged for the lease duration on their
// own clock (never by comparing the record's RenewTime with their clock),
// and then take over by deleting exactly the record they saw (a
// resourceVersion precondition) and creating a new one.
//
// The term is the Lease's create revision (its resourceVersion right after
// Create): a takeover deletes and recreates the object, so terms only grow,
// and a deposed leader's fence {Key: the Lease's key, CreateRevision: its
// term} fails. Right after creating the Lease the holder records its term
// in the TermAnnotation with a fenced update, and only then leads; renewals
// are fenced updates too.
//
// An ObjectLock serves one Elector; Observe may share it.
type ObjectLock struct {
	s         LeaseStore
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

// NewObjectLock returns a lock on the Lease namespace/name in s (a
// namespaced Lease resource such as LeaseResource). namespace and name must
// be DNS-1123 names.
func NewObjectLock(s LeaseStore, namespace, name string) (*ObjectLock, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: object lock: store is nil", ErrInvalidConfig)
	}
	if r, ok := s.(interface{ Resource() store.Resource }); ok && !r.Resource().Namespaced {
		return nil, fmt.Errorf("%w: object lock: resource %q is cluster-scoped; use a namespaced Lease resource", ErrInvalidConfig, r.Resource().Name)
	}
	if len(namespace) > 63 || !dns1123Subdomain.MatchString(namespace) {
		return nil, fmt.Errorf("%w: object lock: namespace %q is not a DNS-1123 label", ErrInvalidConfig, namespace)
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

func (l *ObjectLock) isOurs(o store.Object) bool { return o.GetObjectMeta().Name == l.name }

// Get reads the Lease. Term is 0 while an acquisition is in progress (the
// holder has created the Lease but not yet recorded its term).
func (l *ObjectLock) Get(ctx context.Context) (Observation, error) {
	// A list gives the read revision even when the Lease is absent, which
	// Wait needs.
	list, err := l.s.List(ctx, l.namespace, store.ListOptions{Filter: l.isOurs})
	if err != nil {
		return Observation{}, fmt.Errorf("election: read %s: %w", l.key, err)
	}
	obs := Observation{Revision: list.Revision}
	for _, lease := range list.Items {
		if lease.Name != l.name {
			continue
		}
		v, err := store.ParseRevision(lease.ResourceVersion)
		if err != nil {
			return Observation{}, fmt.Errorf("election: read %s: %w", l.key, err)
		}
		obs.Held, obs.Spec, obs.Version = true, lease.Spec, v
		if t := lease.Annotations[TermAnnotation]; t != "" {
			if obs.Term, err = strconv.ParseInt(t, 10, 64); err != nil {
				return Observation{}, fmt.Errorf("election: read %s: bad %s annotation %q: %w", l.key, TermAnnotation, t, err)
			}
		}
	}
	return obs, nil
}

// Wait blocks until the Lease is written or deleted after revision rev.
// Every write wakes it: candidates need to see renewals to judge expiry.
func (l *ObjectLock) Wait(ctx context.Context, rev int64) error {
	w, err := l.s.Watch(ctx, l.namespace, store.WatchOptions{AfterRevision: rev, Filter: l.isOurs})
	if err != nil {
		if errors.Is(err, store.ErrGone) {
			return nil // changes happened since rev: re-read
		}
		return fmt.Errorf("election: watch %s: %w", l.key, err)
	}
	defer w.Stop()
	for range w.Events() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if errors.Is(w.Err(), store.ErrGone) {
		return nil
	}
	return fmt.Errorf("election: watch %s ended: %w", l.key, w.Err())
}

// Acquire creates the Lease if it is absent and records the term in it. If
// prev.Held (the caller judged prev's record expired), it first deletes the
// Lease on condition that it is still exactly prev (same resourceVersion),
// so a renewal the caller did not see keeps the holder in place.
func (l *ObjectLock) Acquire(ctx context.Context, spec LeaseSpec, prev Observation) (store.Fence, error) {
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
		Spec:       spec,
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
	f := store.Fence{Key: l.key, CreateRevision: term}
	if err := l.write(ctx, f, spec); err != nil {
		// Not leading without a recorded term: give the Lease up.
		_, _ = l.s.Delete(store.WithFence(context.WithoutCancel(ctx), f), l.namespace, l.name)
		return store.Fence{}, fmt.Errorf("election: acquire %s: record term: %w", l.key, err)
	}
	l.mu.Lock()
	l.term = term
	l.mu.Unlock()
	return f, nil
}

// write updates the Lease to spec and the term annotation, fenced by f.
func (l *ObjectLock) write(ctx context.Context, f store.Fence, spec LeaseSpec) error {
	_, err := l.s.Update(store.WithFence(ctx, f), &Lease{
		ObjectMeta: store.ObjectMeta{
			Namespace: l.namespace, Name: l.name,
			Annotations: map[string]string{TermAnnotation: strconv.FormatInt(f.CreateRevision, 10)},
		},
		Spec: spec,
	})
	if errors.Is(err, store.ErrFenced) || errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s: term %d is over: %w", ErrLost, l.key, f.CreateRevision, err)
	}
	return err
}

// Renew writes spec to the Lease, fenced by the caller's term: it fails
// with ErrLost once another candidate has replaced the Lease.
func (l *ObjectLock) Renew(ctx context.Context, spec LeaseSpec) error {
	f, err := l.held()
	if err != nil {
		return err
	}
	if err := l.write(ctx, f, spec); err != nil {
		if errors.Is(err, ErrLost) {
			l.forget(f.CreateRevision)
			return err
		}
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
