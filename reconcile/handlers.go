package reconcile

import (
	"log/slog"
	"maps"

	"github.com/setpoint-dev/setpoint/store"
)

// Request is the key of a stored object: its namespace (empty for
// cluster-scoped objects) and name. It is the usual key type of a controller
// for objects.
type Request struct {
	Namespace string
	Name      string
}

// RequestFor returns the key of obj.
func RequestFor(obj store.Object) Request {
	m := obj.GetObjectMeta()
	return Request{Namespace: m.Namespace, Name: m.Name}
}

// String returns "namespace/name", or "name" for a cluster-scoped object.
func (r Request) String() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

// LogValue logs r as its String.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.String()) }

// Enqueuer is where handlers put keys; *Queue implements it.
type Enqueuer[K comparable] interface {
	AddWithPriority(key K, prio int)
}

var _ Enqueuer[Request] = (*Queue[Request])(nil)

// ChangeType says what happened to an object.
type ChangeType int

// The change types.
const (
	// Created: the object appeared (also for each object of an informer's
	// initial list).
	Created ChangeType = iota + 1
	// Updated: the object changed, or a periodic resync replayed it.
	Updated
	// Deleted: the object was deleted.
	Deleted
)

// Change is one event as predicates see it.
type Change[T store.Object] struct {
	Type ChangeType
	// Old is the previous state, for Updated only.
	Old T
	// Object is the new state; for Deleted, the last known state.
	Object T
	// Initial is set for Created events from an informer's initial list.
	Initial bool
	// FinalStateUnknown is set for Deleted events that were inferred from a
	// relist, when Object is only the last state the cache saw.
	FinalStateUnknown bool
}

// EventHandler turns an informer's events into keys on a queue. It has the
// three methods of informer.Handler[T] (OnAdd, OnUpdate, OnDelete), so it
// can be registered with an informer directly:
//
//	inf.AddHandler(reconcile.EnqueueKey[*api.Pod](ctrl.Queue()))
//
// Objects from the initial list are added at PriorityLow, so that they do
// not hold up fresh changes; everything else at PriorityNormal. Events that
// fail a predicate are dropped. The handler is safe for concurrent use and
// does not keep the objects it is given.
type EventHandler[T store.Object, K comparable] struct {
	q     Enqueuer[K]
	keys  func(T) []K
	preds []Predicate[T]
}

// EnqueueKey returns a handler that adds each object's own Request.
func EnqueueKey[T store.Object](q Enqueuer[Request]) *EventHandler[T, Request] {
	return &EventHandler[T, Request]{q: q, keys: func(obj T) []Request { return []Request{RequestFor(obj)} }}
}

// OwnerKind selects owner references by kind.
type OwnerKind struct {
	// APIVersion, when set, must match the reference's apiVersion too.
	APIVersion string
	// Kind must match the reference's kind. Required.
	Kind string
	// ClusterScoped says the owner has no namespace; otherwise the owner is
	// looked for in the object's namespace (owners cannot be in another
	// namespace).
	ClusterScoped bool
}

// EnqueueOwner returns a handler that adds the Request of each object's
// controlling owner (the owner reference with controller=true) when that
// owner is of the given kind. Objects without such an owner add nothing. On
// update, the old and the new owner are both added if they differ.
func EnqueueOwner[T store.Object](q Enqueuer[Request], owner OwnerKind) *EventHandler[T, Request] {
	return &EventHandler[T, Request]{q: q, keys: func(obj T) []Request {
		m := obj.GetObjectMeta()
		ref := m.ControllerOf()
		if ref == nil || ref.Kind != owner.Kind || (owner.APIVersion != "" && ref.APIVersion != owner.APIVersion) {
			return nil
		}
		r := Request{Namespace: m.Namespace, Name: ref.Name}
		if owner.ClusterScoped {
			r.Namespace = ""
		}
		return []Request{r}
	}}
}

// EnqueueMapped returns a handler that adds the keys fn returns for each
// object. On update, the keys of the old and the new state are both added.
// fn must not keep or modify the object.
func EnqueueMapped[T store.Object, K comparable](q Enqueuer[K], fn func(obj T) []K) *EventHandler[T, K] {
	return &EventHandler[T, K]{q: q, keys: fn}
}

// With returns a copy of h that also requires every one of preds to pass.
func (h *EventHandler[T, K]) With(preds ...Predicate[T]) *EventHandler[T, K] {
	c := *h
	c.preds = append(append([]Predicate[T](nil), h.preds...), preds...)
	return &c
}

func (h *EventHandler[T, K]) pass(c Change[T]) bool {
	for _, p := range h.preds {
		if !p(c) {
			return false
		}
	}
	return true
}

// OnAdd adds obj's keys, at PriorityLow when initial is set.
func (h *EventHandler[T, K]) OnAdd(obj T, initial bool) {
	if !h.pass(Change[T]{Type: Created, Object: obj, Initial: initial}) {
		return
	}
	prio := PriorityNormal
	if initial {
		prio = PriorityLow
	}
	for _, k := range h.keys(obj) {
		h.q.AddWithPriority(k, prio)
	}
}

// OnUpdate adds the keys of old and new.
func (h *EventHandler[T, K]) OnUpdate(old, new T) {
	if !h.pass(Change[T]{Type: Updated, Old: old, Object: new}) {
		return
	}
	newKeys := h.keys(new)
	for _, k := range newKeys {
		h.q.AddWithPriority(k, PriorityNormal)
	}
	for _, k := range h.keys(old) {
		if !contains(newKeys, k) {
			h.q.AddWithPriority(k, PriorityNormal)
		}
	}
}

// OnDelete adds obj's keys.
func (h *EventHandler[T, K]) OnDelete(obj T, finalStateUnknown bool) {
	if !h.pass(Change[T]{Type: Deleted, Object: obj, FinalStateUnknown: finalStateUnknown}) {
		return
	}
	for _, k := range h.keys(obj) {
		h.q.AddWithPriority(k, PriorityNormal)
	}
}

func contains[K comparable](s []K, k K) bool {
	for _, x := range s {
		if x == k {
			return true
		}
	}
	return false
}

// Predicate decides whether a change is worth a reconcile.
type Predicate[T store.Object] func(c Change[T]) bool

// And passes changes that pass every one of preds (all changes if none).
func And[T store.Object](preds ...Predicate[T]) Predicate[T] {
	return func(c Change[T]) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}
}

// Or passes changes that pass at least one of preds (none if none).
func Or[T store.Object](preds ...Predicate[T]) Predicate[T] {
	return func(c Change[T]) bool {
		for _, p := range preds {
			if p(c) {
				return true
			}
		}
		return false
	}
}

// Not passes the changes p rejects.
func Not[T store.Object](p Predicate[T]) Predicate[T] {
	return func(c Change[T]) bool { return !p(c) }
}

// GenerationChanged passes creates, deletes, and updates that change
// metadata.generation, which the store bumps only when the desired state
// changes. It drops status-only updates and resyncs.
func GenerationChanged[T store.Object]() Predicate[T] {
	return func(c Change[T]) bool {
		return c.Type != Updated || c.Old.GetObjectMeta().Generation != c.Object.GetObjectMeta().Generation
	}
}

// LabelsChanged passes creates, deletes, and updates that change the labels.
func LabelsChanged[T store.Object]() Predicate[T] {
	return func(c Change[T]) bool {
		return c.Type != Updated || !maps.Equal(c.Old.GetObjectMeta().Labels, c.Object.GetObjectMeta().Labels)
	}
}

// AnnotationsChanged passes creates, deletes, and updates that change the
// annotations.
func AnnotationsChanged[T store.Object]() Predicate[T] {
	return func(c Change[T]) bool {
		return c.Type != Updated || !maps.Equal(c.Old.GetObjectMeta().Annotations, c.Object.GetObjectMeta().Annotations)
	}
}

// ResourceVersionChanged passes creates, deletes, and updates that are real
// changes, dropping periodic resyncs (which replay the same resourceVersion).
func ResourceVersionChanged[T store.Object]() Predicate[T] {
	return func(c Change[T]) bool {
		return c.Type != Updated || c.Old.GetObjectMeta().ResourceVersion != c.Object.GetObjectMeta().ResourceVersion
	}
}

// Matching passes the changes whose object (for updates, the new state)
// satisfies fn.
func Matching[T store.Object](fn func(obj T) bool) Predicate[T] {
	return func(c Change[T]) bool { return fn(c.Object) }
}
