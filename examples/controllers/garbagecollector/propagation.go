package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/setpoint-dev/setpoint/store"
)

// dependent is a dependent of a waiting owner, as the graph has it.
type dependent struct {
	uid string
	n   node
	ref store.OwnerReference // its reference to the owner
}

// dependentsOf returns the graph's dependents of the owner uid.
func (g *Collector) dependentsOf(uid string) []dependent {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []dependent
	for d := range g.dependents[uid] {
		n := g.nodes[d]
		if n == nil {
			continue
		}
		for _, o := range n.owners {
			if o.UID == uid {
				out = append(out, dependent{uid: d, n: *n, ref: o})
				break
			}
		}
	}
	return out
}

// dropOwner removes the references to owner from a dependent.
func (g *Collector) dropOwner(ctx context.Context, d dependent, owner string) error {
	t := g.byKind[kindKey(d.n.res.APIVersion, d.n.res.Kind)]
	err := t.update(ctx, d.n.namespace, d.n.name, d.uid, func(m *store.ObjectMeta) bool {
		before := len(m.OwnerReferences)
		m.OwnerReferences = slices.DeleteFunc(slices.Clone(m.OwnerReferences), func(o store.OwnerReference) bool { return o.UID == owner })
		return len(m.OwnerReferences) != before
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("remove the reference to %s from %s %s/%s: %w", owner, d.n.res.Name, d.n.namespace, d.n.name, err)
	}
	return nil
}

// finish removes the policy finalizer from the owner, which lets the
// store delete it (if no other finalizer remains).
func (g *Collector) finish(ctx context.Context, uid string, c node, finalizer string) error {
	t := g.byKind[kindKey(c.res.APIVersion, c.res.Kind)]
	err := t.update(ctx, c.namespace, c.name, uid, func(m *store.ObjectMeta) bool {
		if !slices.Contains(m.Finalizers, finalizer) {
			return false
		}
		m.Finalizers = slices.DeleteFunc(slices.Clone(m.Finalizers), func(f string) bool { return f == finalizer })
		return true
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("remove the %s finalizer from %s %s/%s: %w", finalizer, c.res.Name, c.namespace, c.name, err)
	}
	g.log.Info("dependents handled, finalizer removed", "object", c.res.Name+"/"+c.namespace+"/"+c.name, "finalizer", finalizer)
	return nil
}

// orphanDependents handles an owner deleted with the Orphan policy, as
// Kubernetes' collector does: every dependent loses its reference to the
// owner (and stays), then the owner loses its orphan finalizer.
func (g *Collector) orphanDependents(ctx context.Context, uid string, c node) error {
	var errs []error
	for _, d := range g.dependentsOf(uid) {
		errs = append(errs, g.dropOwner(ctx, d, uid))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return g.finish(ctx, uid, c, store.FinalizerOrphanDependents)
}

// deleteDependents handles an owner deleted with the Foreground policy,
// as Kubernetes' collector does: a dependent that has another owner
// still present only loses its reference to this one; every other
// dependent is deleted, itself in the foreground when its reference
// blocks owner deletion (so its own dependents go first), in the
// background otherwise. The owner loses its foregroundDeletion finalizer
// once no dependent whose reference has blockOwnerDeletion remains; each
// dependent's removal brings the owner back to this check.
func (g *Collector) deleteDependents(ctx context.Context, uid string, c node) error {
	var errs []error
	blocking := 0
	for _, d := range g.dependentsOf(uid) {
		other, err := g.hasOtherOwner(ctx, d, uid)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other {
			errs = append(errs, g.dropOwner(ctx, d, uid))
			continue
		}
		blocks := d.ref.BlockOwnerDeletion != nil && *d.ref.BlockOwnerDeletion
		if blocks {
			blocking++
		}
		if d.n.deleting && (!blocks || d.n.foreground) {
			continue // on its way; a blocking one in the foreground already
		}
		policy := store.PropagationBackground
		if blocks {
			policy = store.PropagationForeground
		}
		t := g.byKind[kindKey(d.n.res.APIVersion, d.n.res.Kind)]
		err = t.delete(ctx, d.n.namespace, d.n.name, d.uid, policy)
		switch {
		case err == nil, errors.Is(err, store.ErrNotFound):
		case errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrFenced):
		default:
			errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", d.n.res.Name, d.n.namespace, d.n.name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if blocking > 0 {
		return nil // a blocking dependent's removal brings the owner back
	}
	return g.finish(ctx, uid, c, store.FinalizerDeleteDependents)
}

// hasOtherOwner reports whether d has an owner besides owner that exists
// and is not itself waiting for its dependents' deletion.
func (g *Collector) hasOtherOwner(ctx context.Context, d dependent, owner string) (bool, error) {
	for _, o := range d.n.owners {
		if o.UID == owner {
			continue
		}
		g.mu.Lock()
		on := g.nodes[o.UID]
		waitingForDeletion := on != nil && on.foreground
		g.mu.Unlock()
		if waitingForDeletion {
			continue
		}
		solid, err := g.ownerExists(ctx, d.n.namespace, o)
		if err != nil {
			return false, err
		}
		if solid {
			return true, nil
		}
	}
	return false, nil
}
