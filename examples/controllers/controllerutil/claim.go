package controllerutil

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
)

// Updater is the write a Claimer needs: the typed clients and the store
// implement it.
type Updater[T store.Object] interface {
	GuaranteedUpdate(ctx context.Context, namespace, name string, fn func(T) (T, error)) (T, error)
}

// Claimer decides which objects (pods, replica sets, revisions) one
// controller owns, and fixes ownerReferences to match, following
// Kubernetes' ControllerRefManager:
//
//   - an object whose controller reference names another owner (another
//     UID) is never touched;
//   - an object controlled by Owner whose labels still match Selector is
//     claimed; one that no longer matches is released (its reference
//     removed), unless Owner is being deleted;
//   - an orphan (no controller reference) that matches Selector, is not
//     being deleted and is in Owner's namespace is adopted (a controller
//     reference with blockOwnerDeletion is added), unless Owner is being
//     deleted; before the first adoption CanAdopt re-reads Owner from the
//     apiserver, so a stale cache never adopts into an owner that was
//     deleted and re-created or is being deleted.
//
// Adoption and release are compare-and-swap updates that re-check the
// rule on the object as stored, so a race with another controller or a
// user never gives an object two controllers.
type Claimer[T store.Object] struct {
	// Owner is the controller object (read-only).
	Owner store.Object
	// OwnerResource names Owner's kind for the references.
	OwnerResource store.Resource
	// Selector says which objects Owner wants.
	Selector func(labels map[string]string) bool
	// Client writes the adoptions and releases.
	Client Updater[T]
	// CanAdopt re-reads Owner; an error stops adoption (claiming and
	// releasing go on). nil: adopt without a re-check.
	CanAdopt func(ctx context.Context) error
}

// errSkip makes an adoption or release a no-op when the stored object no
// longer qualifies.
var errSkip = errors.New("no longer qualifies")

// Claim returns the objects of objs that Owner controls after adopting
// and releasing as described on Claimer. objs are cache objects; they are
// not modified. Objects that vanish meanwhile are skipped; other write
// failures are returned joined, with the objects claimed so far.
func (c *Claimer[T]) Claim(ctx context.Context, objs []T) ([]T, error) {
	om := c.Owner.GetObjectMeta()
	deleting := om.DeletionTimestamp != nil
	var (
		claimed  []T
		errs     []error
		once     sync.Once
		adoptErr error
	)
	for _, obj := range objs {
		m := obj.GetObjectMeta()
		ref := m.ControllerOf()
		if ref != nil {
			if ref.UID != om.UID {
				continue
			}
			if c.Selector(m.Labels) {
				claimed = append(claimed, obj)
				continue
			}
			if deleting {
				continue
			}
			if err := c.release(ctx, obj); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if deleting || m.DeletionTimestamp != nil || m.Namespace != om.Namespace || !c.Selector(m.Labels) {
			continue
		}
		once.Do(func() {
			if c.CanAdopt != nil {
				adoptErr = c.CanAdopt(ctx)
			}
		})
		if adoptErr != nil {
			errs = append(errs, fmt.Errorf("cannot adopt %s/%s: %w", m.Namespace, m.Name, adoptErr))
			continue
		}
		out, err := c.adopt(ctx, obj)
		switch {
		case errors.Is(err, errSkip) || errors.Is(err, store.ErrNotFound):
		case err != nil:
			errs = append(errs, err)
		default:
			claimed = append(claimed, out)
		}
	}
	return claimed, errors.Join(errs...)
}

func (c *Claimer[T]) adopt(ctx context.Context, obj T) (T, error) {
	m := obj.GetObjectMeta()
	om := c.Owner.GetObjectMeta()
	return c.Client.GuaranteedUpdate(ctx, m.Namespace, m.Name, func(cur T) (T, error) {
		cm := cur.GetObjectMeta()
		if cm.UID != m.UID || cm.ControllerOf() != nil || cm.DeletionTimestamp != nil || !c.Selector(cm.Labels) {
			return cur, errSkip
		}
		for i := range cm.OwnerReferences {
			if cm.OwnerReferences[i].UID == om.UID {
				cm.OwnerReferences = append(cm.OwnerReferences[:i:i], cm.OwnerReferences[i+1:]...)
				break
			}
		}
		cm.OwnerReferences = append(cm.OwnerReferences, ControllerRef(c.Owner, c.OwnerResource))
		return cur, nil
	})
}

func (c *Claimer[T]) release(ctx context.Context, obj T) error {
	m := obj.GetObjectMeta()
	uid := c.Owner.GetObjectMeta().UID
	_, err := c.Client.GuaranteedUpdate(ctx, m.Namespace, m.Name, func(cur T) (T, error) {
		cm := cur.GetObjectMeta()
		if cm.UID != m.UID {
			return cur, errSkip
		}
		refs := cm.OwnerReferences[:0:0]
		for _, r := range cm.OwnerReferences {
			if r.UID != uid {
				refs = append(refs, r)
			}
		}
		if len(refs) == len(cm.OwnerReferences) {
			return cur, errSkip
		}
		cm.OwnerReferences = refs
		return cur, nil
	})
	if err == nil || errors.Is(err, errSkip) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("release %s/%s: %w", m.Namespace, m.Name, err)
}

// RecheckOwner returns a CanAdopt function that re-reads the owner with
// get and fails if it is gone, was re-created (another UID) or is being
// deleted: Kubernetes' RecheckDeletionTimestamp.
func RecheckOwner[T store.Object](owner store.Object, get func(ctx context.Context, namespace, name string) (T, error)) func(ctx context.Context) error {
	m := owner.GetObjectMeta()
	return func(ctx context.Context) error {
		fresh, err := get(ctx, m.Namespace, m.Name)
		if err != nil {
			return err
		}
		fm := fresh.GetObjectMeta()
		if fm.UID != m.UID {
			return fmt.Errorf("original %s/%s is gone: got uid %s, wanted %s", m.Namespace, m.Name, fm.UID, m.UID)
		}
		if fm.DeletionTimestamp != nil {
			return fmt.Errorf("%s/%s has just been deleted at %v", m.Namespace, m.Name, fm.DeletionTimestamp.Time)
		}
		return nil
	}
}
