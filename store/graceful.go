package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DeleteGracefully is the first step of a graceful deletion, as
// Kubernetes' apiserver deletes pods bound to a node: it marks the object
// (metadata.deletionTimestamp = now + the grace period,
// metadata.deletionGracePeriodSeconds) instead of deleting it, and an agent
// deletes it for good, with Delete, once it has stopped what the object
// stands for. grace returns the grace period for the current object, in
// seconds; 0 or less deletes at once, as Delete does (so do opts'
// preconditions). A pending deletion may only be shortened: a longer grace
// period leaves the object as it is. pending reports whether the object
// still exists, marked. A dry run (WithDryRun) checks the same and
// returns the object as it would be, writing nothing; a resource's own
// finalizers (WithFinalizing) and metadata.finalizers hold the object
// after the final delete as they do for Delete.
//
// While the grace period runs, updates keep the marks (they cannot be
// changed or removed) and never delete the object, even without
// finalizers; an object marked with grace 0 (or by Delete, for its
// finalizers) is deleted by the update that removes its last finalizer.
func (s *Store[T]) DeleteGracefully(ctx context.Context, namespace, name string, grace func(cur T) int64, opts ...DeleteOption) (out T, pending bool, err error) {
	var zero T
	key, o, wantRV, err := s.deleteArgs(namespace, name, opts)
	if err != nil {
		return zero, false, err
	}
	var latest *KV
	for {
		if err := ctx.Err(); err != nil {
			return zero, false, fmt.Errorf("delete %s: %w", key, err)
		}
		cur, err := s.current(ctx, key, &latest)
		if err != nil {
			return zero, false, fmt.Errorf("delete %s: %w", key, err)
		}
		obj, err := s.decode(key, cur.Value, cur.ModRevision)
		if err != nil {
			return zero, false, err
		}
		m := obj.GetObjectMeta()
		if err := checkDeletePreconditions(key, o, wantRV, m.UID, cur.ModRevision); err != nil {
			return zero, false, err
		}
		g := grace(obj)
		if g <= 0 || (m.DeletionTimestamp != nil && m.DeletionGracePeriodSeconds == nil) {
			out, err := s.Delete(ctx, namespace, name, append(opts, WithPreconditionResourceVersion(FormatRevision(cur.ModRevision)))...)
			if ce := (*ConflictError)(nil); errors.As(err, &ce) {
				continue
			}
			if err != nil {
				return zero, false, err
			}
			return out, out.GetObjectMeta().DeletionTimestamp != nil, nil
		}
		changed := applyPropagation(m, o.propagation)
		if m.DeletionTimestamp != nil {
			if g >= *m.DeletionGracePeriodSeconds && !changed {
				return obj, true, nil
			}
			g = min(g, *m.DeletionGracePeriodSeconds)
			start := m.DeletionTimestamp.Add(-time.Duration(*m.DeletionGracePeriodSeconds) * time.Second)
			t := NewTime(start.Add(time.Duration(g) * time.Second))
			m.DeletionTimestamp = &t
		} else {
			s.markDeletion(obj)
			t := NewTime(m.DeletionTimestamp.Add(time.Duration(g) * time.Second))
			m.DeletionTimestamp = &t
		}
		m.DeletionGracePeriodSeconds = &g
		if DryRunFrom(ctx) {
			if err := s.checkFences(ctx, key); err != nil {
				return zero, false, fmt.Errorf("delete: %w", err)
			}
			return obj, true, nil
		}
		data, err := s.encode(obj, key)
		if err != nil {
			return zero, false, fmt.Errorf("delete: %w", err)
		}
		rev, err := s.b.Update(ctx, key, data, cur.ModRevision, FencesFrom(ctx)...)
		if ce := (*ConflictError)(nil); errors.As(err, &ce) {
			latest = ce.Latest
			continue
		}
		if err != nil {
			return zero, false, fmt.Errorf("delete %s: %w", key, err)
		}
		m.ResourceVersion = FormatRevision(rev)
		return obj, true, nil
	}
}

// graceRuns reports whether m is marked for a graceful deletion whose grace
// period is not over.
func graceRuns(m *ObjectMeta) bool {
	return m.DeletionTimestamp != nil && m.DeletionGracePeriodSeconds != nil && *m.DeletionGracePeriodSeconds > 0
}
