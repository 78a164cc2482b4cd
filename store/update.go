package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/setpoint-dev/setpoint/internal/fastjson"
)

func isNilPointer(obj any) bool {
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// Update replaces an object with obj, compare-and-swap on
// obj.ResourceVersion: if the stored object has another revision the error
// is a *ConflictError (wrapping ErrConflict); an empty ResourceVersion
// updates whatever version is current. System fields (uid,
// creationTimestamp, deletionTimestamp, generation, name, namespace) are
// kept from the stored object; Generation increments when anything other
// than metadata and status changed. Once DeletionTimestamp is set no
// finalizer may be added (ErrInvalid); an update that removes the last
// finalizer of such an object deletes it and returns its final state with
// a nil error. An update that changes nothing writes nothing and returns the
// stored object. obj is not modified. A missing object gives ErrNotFound.
func (s *Store[T]) Update(ctx context.Context, obj T) (T, error) {
	var zero T
	if err := checkNonNil(obj); err != nil {
		return zero, err
	}
	m := obj.GetObjectMeta()
	if err := s.checkKeyArgs(m.Namespace, m.Name); err != nil {
		return zero, fmt.Errorf("update: %w", err)
	}
	key := s.Key(m.Namespace, m.Name)
	want, err := ParseRevision(m.ResourceVersion)
	if err != nil {
		return zero, fmt.Errorf("update %s: %w", key, err)
	}
	var latest *KV
	for {
		if err := ctx.Err(); err != nil {
			return zero, fmt.Errorf("update %s: %w", key, err)
		}
		cur, err := s.current(ctx, key, &latest)
		if err != nil {
			return zero, fmt.Errorf("update %s: %w", key, err)
		}
		if want != 0 && cur.ModRevision != want {
			return zero, fmt.Errorf("update: %w", &ConflictError{Key: key, Expected: want, Current: cur.ModRevision})
		}
		out, _, err := s.updateFrom(ctx, key, cur, nil, shallowCopy(obj), true)
		var ce *ConflictError
		if want == 0 && errors.As(err, &ce) {
			latest = ce.Latest
			continue // unconditional: retry against the new version
		}
		if err != nil {
			return zero, fmt.Errorf("update %s: %w", key, err)
		}
		return out, nil
	}
}

// GuaranteedUpdate reads the object, calls fn on a private copy and writes
// fn's result compare-and-swap, retrying on conflict until it succeeds or
// ctx ends. fn may be called several times; the store owns what it returns.
// If fn fails, its error is returned (wrapped once with the key) and
// nothing is written. If the result encodes to the stored bytes, nothing is
// written and the current object is returned. The rules of Update apply to
// fn's result. Concurrent GuaranteedUpdates of one object through one Store
// take turns (fn must therefore not itself call GuaranteedUpdate on the same
// object of the same Store).
func (s *Store[T]) GuaranteedUpdate(ctx context.Context, namespace, name string, fn func(T) (T, error)) (T, error) {
	var zero T
	if err := s.checkKeyArgs(namespace, name); err != nil {
		return zero, fmt.Errorf("guaranteed update: %w", err)
	}
	key := s.Key(namespace, name)
	turn, release, err := s.locks.acquire(ctx, key)
	if err != nil {
		return zero, fmt.Errorf("guaranteed update %s: %w", key, err)
	}
	defer release()
	latest := turn.hint
	turn.hint = nil
	attempt := 0
	for {
		if err := ctx.Err(); err != nil {
			return zero, fmt.Errorf("guaranteed update %s: %w", key, err)
		}
		cur, err := s.current(ctx, key, &latest)
		if err != nil {
			return zero, fmt.Errorf("guaranteed update %s: %w", key, err)
		}
		in, err := s.decode(key, cur.Value, cur.ModRevision)
		if err != nil {
			return zero, err
		}
		// The stored metadata, kept before fn may change in: updateFrom
		// then need not decode cur again.
		old := storedMetaOf(in.GetObjectMeta())
		n, err := fn(in)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", key, err)
		}
		if err := checkNonNil(n); err != nil {
			return zero, fmt.Errorf("guaranteed update %s: update function returned %w", key, err)
		}
		out, written, err := s.updateFrom(ctx, key, cur, &old, n, false)
		if ce := (*ConflictError)(nil); errors.As(err, &ce) {
			latest = ce.Latest
			attempt++
			if err := backoff(ctx, attempt); err != nil {
				return zero, fmt.Errorf("guaranteed update %s: %w", key, err)
			}
			continue
		}
		if err != nil {
			return zero, fmt.Errorf("guaranteed update %s: %w", key, err)
		}
		turn.hint = written
		return out, nil
	}
}

// backoff waits before conflict retry number attempt: not at all for the
// first retry, then a random time up to 2^attempt milliseconds (at most
// 64ms), so that writers contending for one object stop wasting each
// other's transactions.
func backoff(ctx context.Context, attempt int) error {
	if attempt <= 1 {
		return nil
	}
	limit := time.Millisecond << min(attempt, 6)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(limit))))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// current returns *latest (and clears it) if set, else reads key.
func (s *Store[T]) current(ctx context.Context, key string, latest **KV) (KV, error) {
	if kv := *latest; kv != nil {
		*latest = nil
		return *kv, nil
	}
	return s.b.Get(ctx, key)
}

// storedMeta is the part of a stored object updateFrom needs.
type storedMeta struct {
	Metadata ObjectMeta `json:"metadata"`
}

// storedMetaOf copies the metadata fields updateFrom reads from the stored
// object, deeply enough that changes to m do not reach the copy.
func storedMetaOf(m *ObjectMeta) ObjectMeta {
	out := ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, GenerateName: m.GenerateName,
		CreationTimestamp: m.CreationTimestamp, Generation: m.Generation, Finalizers: slices.Clone(m.Finalizers)}
	if m.DeletionTimestamp != nil {
		t := *m.DeletionTimestamp
		out.DeletionTimestamp = &t
	}
	if m.DeletionGracePeriodSeconds != nil {
		g := *m.DeletionGracePeriodSeconds
		out.DeletionGracePeriodSeconds = &g
	}
	return out
}

// updateFrom writes n over the stored state cur, whose metadata is stored
// when the caller has it (nil: decoded from cur). n may be a shallow copy of
// a caller's object: only its top-level metadata fields are assigned. With
// fresh, the result is decoded from the written bytes; otherwise n itself
// (owned by the store) is returned, with the state now stored (nil if the
// object is gone). It returns a *ConflictError when cur is no longer
// current.
func (s *Store[T]) updateFrom(ctx context.Context, key string, cur KV, stored *ObjectMeta, n T, fresh bool) (T, *KV, error) {
	var zero T
	if stored == nil {
		var old storedMeta
		if err := fastjson.UnmarshalValid(cur.Value, &old); err != nil {
			return zero, nil, fmt.Errorf("%s: decoding stored object: %w", key, err)
		}
		stored = &old.Metadata
	}
	om, nm := stored, n.GetObjectMeta()
	if nm.Name != om.Name || nm.Namespace != om.Namespace {
		return zero, nil, &FieldError{Field: "metadata.name", Value: joinKey(nm.Namespace, nm.Name), Reason: "name and namespace cannot change"}
	}
	nm.UID = om.UID
	nm.GenerateName = om.GenerateName
	nm.CreationTimestamp = om.CreationTimestamp
	nm.DeletionTimestamp = om.DeletionTimestamp
	nm.DeletionGracePeriodSeconds = om.DeletionGracePeriodSeconds
	nm.Generation = om.Generation
	errs := s.validateMeta(nm)
	if om.DeletionTimestamp != nil {
		for _, f := range nm.Finalizers {
			if !slices.Contains(om.Finalizers, f) {
				errs = append(errs, &FieldError{Field: "metadata.finalizers", Value: f, Reason: "no new finalizer may be added once deletion has started"})
			}
		}
	}
	if len(errs) > 0 {
		return zero, nil, errs
	}
	if s.validate != nil {
		if err := s.validate(n); err != nil {
			return zero, nil, err
		}
	}
	data, err := s.encode(n, key)
	if err != nil {
		return zero, nil, err
	}
	if bytes.Equal(data, cur.Value) {
		out, err := s.decode(key, cur.Value, cur.ModRevision)
		return out, &cur, err
	}
	changed, err := specDiffers(cur.Value, data)
	if err != nil {
		return zero, nil, fmt.Errorf("%s: %w", key, err)
	}
	if changed {
		nm.Generation = om.Generation + 1
		if data, err = s.encode(n, key); err != nil {
			return zero, nil, err
		}
	}
	var rev int64
	var written *KV
	switch {
	case DryRunFrom(ctx):
		// Everything but the write: the fences, and the object as it would
		// be, at the current revision.
		if err := s.checkFences(ctx, key); err != nil {
			return zero, nil, err
		}
		rev = cur.ModRevision
	case nm.DeletionTimestamp != nil && !s.holdsFinalizers(n) && !graceRuns(nm):
		_, rev, err = s.b.Delete(ctx, key, cur.ModRevision, FencesFrom(ctx)...)
	default:
		rev, err = s.b.Update(ctx, key, data, cur.ModRevision, FencesFrom(ctx)...)
		written = &KV{Key: key, Value: data, CreateRevision: cur.CreateRevision, ModRevision: rev}
	}
	if err != nil {
		return zero, nil, err
	}
	if fresh {
		out, err := s.decode(key, data, rev)
		return out, written, err
	}
	nm.ResourceVersion = FormatRevision(rev)
	return n, written, nil
}

// specDiffers reports whether two encoded objects differ in anything but
// apiVersion, kind, metadata and status.
func specDiffers(a, b []byte) (bool, error) {
	var ma, mb map[string]json.RawMessage
	if err := fastjson.UnmarshalValid(a, &ma); err != nil {
		return false, fmt.Errorf("decoding stored object: %w", err)
	}
	if err := fastjson.UnmarshalValid(b, &mb); err != nil {
		return false, fmt.Errorf("%w: object must encode as a JSON object: %v", ErrInvalid, err)
	}
	for _, k := range []string{"apiVersion", "kind", "metadata", "status"} {
		delete(ma, k)
		delete(mb, k)
	}
	if len(ma) != len(mb) {
		return true, nil
	}
	for k, v := range ma {
		if w, ok := mb[k]; !ok || !bytes.Equal(v, w) {
			return true, nil
		}
	}
	return false, nil
}

type deleteOptions struct {
	uid         string
	rv          string
	propagation PropagationPolicy
}

// DeleteOption sets a precondition of Delete.
type DeleteOption func(*deleteOptions)

// WithPreconditionUID makes Delete fail with ErrConflict unless the stored
// object has this UID (so a re-created object of the same name is spared).
func WithPreconditionUID(uid string) DeleteOption {
	return func(o *deleteOptions) { o.uid = uid }
}

// WithPreconditionResourceVersion makes Delete fail with a *ConflictError
// unless the stored object has this resourceVersion.
func WithPreconditionResourceVersion(rv string) DeleteOption {
	return func(o *deleteOptions) { o.rv = rv }
}

// PropagationPolicy says what happens to an object's dependents (the
// objects whose ownerReferences name it) when it is deleted; Kubernetes'
// metav1.DeletionPropagation.
type PropagationPolicy string

// The propagation policies and the finalizers they set, as Kubernetes
// names them.
const (
	// PropagationOrphan: the dependents stay, without their reference to
	// the deleted owner. The owner gets FinalizerOrphanDependents until
	// the garbage collector has removed those references.
	PropagationOrphan PropagationPolicy = "Orphan"
	// PropagationBackground: the owner goes at once; the garbage collector
	// deletes the dependents after it.
	PropagationBackground PropagationPolicy = "Background"
	// PropagationForeground: the owner stays, with
	// FinalizerDeleteDependents, until the garbage collector has deleted
	// its dependents that block owner deletion.
	PropagationForeground PropagationPolicy = "Foreground"

	// FinalizerOrphanDependents is the finalizer of PropagationOrphan.
	FinalizerOrphanDependents = "orphan"
	// FinalizerDeleteDependents is the finalizer of PropagationForeground.
	FinalizerDeleteDependents = "foregroundDeletion"
)

// WithPropagationPolicy sets the delete's propagation policy. As in
// Kubernetes, the delete itself sets the policy's finalizer on the object
// in the same write that sets its deletionTimestamp (Orphan: orphan;
// Foreground: foregroundDeletion; each removes the other's, and
// Background removes both); without the option the object's finalizers
// are left as they are. A repeated delete may change the policy of an
// object already being deleted. The garbage collector then does the rest.
func WithPropagationPolicy(p PropagationPolicy) DeleteOption {
	return func(o *deleteOptions) { o.propagation = p }
}

// applyPropagation sets m's garbage-collection finalizers for p and
// reports whether they changed.
func applyPropagation(m *ObjectMeta, p PropagationPolicy) bool {
	var add, drop []string
	switch p {
	case PropagationOrphan:
		add, drop = []string{FinalizerOrphanDependents}, []string{FinalizerDeleteDependents}
	case PropagationForeground:
		add, drop = []string{FinalizerDeleteDependents}, []string{FinalizerOrphanDependents}
	case PropagationBackground:
		drop = []string{FinalizerOrphanDependents, FinalizerDeleteDependents}
	default:
		return false
	}
	changed := false
	kept := m.Finalizers[:0:0]
	for _, f := range m.Finalizers {
		if slices.Contains(drop, f) {
			changed = true
			continue
		}
		kept = append(kept, f)
	}
	for _, f := range add {
		if !slices.Contains(kept, f) {
			kept = append(kept, f)
			changed = true
		}
	}
	if changed {
		m.Finalizers = kept
	}
	return changed
}

// checkDeletePreconditions returns a *PreconditionError (wrapped with the
// key) when the stored object's uid or revision is not what o requires.
func checkDeletePreconditions(key string, o deleteOptions, wantRV int64, uid string, modRev int64) error {
	if o.uid != "" && uid != o.uid {
		return fmt.Errorf("delete %s: %w", key, &PreconditionError{Field: "UID", Precondition: o.uid, Stored: uid, Err: ErrConflict})
	}
	if wantRV != 0 && modRev != wantRV {
		return fmt.Errorf("delete %s: %w", key, &PreconditionError{Field: "ResourceVersion", Precondition: FormatRevision(wantRV), Stored: FormatRevision(modRev),
			Err: &ConflictError{Key: key, Expected: wantRV, Current: modRev}})
	}
	return nil
}

// Delete removes an object. If finalizers remain, it only sets
// DeletionTimestamp (once) and returns the object, still present; the
// object goes when the last finalizer is removed by an Update. Otherwise it
// deletes the object and returns its last state, with ResourceVersion set
// to the revision of the deletion. Failed preconditions give ErrConflict, a
// missing object ErrNotFound. A dry run (WithDryRun) checks the same and
// returns the object as the delete would leave or remove it, writing
// nothing.
func (s *Store[T]) Delete(ctx context.Context, namespace, name string, opts ...DeleteOption) (T, error) {
	var zero T
	key, o, wantRV, err := s.deleteArgs(namespace, name, opts)
	if err != nil {
		return zero, err
	}
	var latest *KV
	for {
		if err := ctx.Err(); err != nil {
			return zero, fmt.Errorf("delete %s: %w", key, err)
		}
		cur, err := s.current(ctx, key, &latest)
		if err != nil {
			return zero, fmt.Errorf("delete %s: %w", key, err)
		}
		old, err := s.decode(key, cur.Value, cur.ModRevision)
		if err != nil {
			return zero, err
		}
		om := old.GetObjectMeta()
		if err := checkDeletePreconditions(key, o, wantRV, om.UID, cur.ModRevision); err != nil {
			return zero, err
		}
		changed := applyPropagation(om, o.propagation)
		if DryRunFrom(ctx) {
			if err := s.checkFences(ctx, key); err != nil {
				return zero, fmt.Errorf("delete: %w", err)
			}
			if s.holdsFinalizers(old) && om.DeletionTimestamp == nil {
				s.markDeletion(old)
			}
			return old, nil
		}
		if s.holdsFinalizers(old) {
			switch {
			case om.DeletionTimestamp == nil:
				s.markDeletion(old)
			case graceRuns(om):
				// A graceful deletion cut short: the last finalizer's
				// removal deletes the object.
				zero := int64(0)
				om.DeletionGracePeriodSeconds = &zero
			case !changed:
				return old, nil
			}
			data, err := s.encode(old, key)
			if err != nil {
				return zero, fmt.Errorf("delete: %w", err)
			}
			rev, err := s.b.Update(ctx, key, data, cur.ModRevision, FencesFrom(ctx)...)
			if ce := (*ConflictError)(nil); errors.As(err, &ce) {
				latest = ce.Latest
				continue
			}
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return zero, fmt.Errorf("delete %s: %w", key, err)
			}
			om.ResourceVersion = FormatRevision(rev)
			return old, nil
		}
		_, rev, err := s.b.Delete(ctx, key, cur.ModRevision, FencesFrom(ctx)...)
		if ce := (*ConflictError)(nil); errors.As(err, &ce) {
			latest = ce.Latest
			continue
		}
		if err != nil {
			return zero, fmt.Errorf("delete %s: %w", key, err)
		}
		om.ResourceVersion = FormatRevision(rev)
		return old, nil
	}
}

// deleteArgs checks a delete's arguments and returns the key, the options
// and the resourceVersion precondition (0: none).
func (s *Store[T]) deleteArgs(namespace, name string, opts []DeleteOption) (string, deleteOptions, int64, error) {
	var o deleteOptions
	if err := s.checkKeyArgs(namespace, name); err != nil {
		return "", o, 0, fmt.Errorf("delete: %w", err)
	}
	key := s.Key(namespace, name)
	for _, opt := range opts {
		opt(&o)
	}
	wantRV, err := ParseRevision(o.rv)
	if err != nil {
		return "", o, 0, fmt.Errorf("delete %s: precondition: %w", key, err)
	}
	return key, o, wantRV, nil
}
