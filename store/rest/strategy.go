package rest

import (
	"reflect"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// Strategy is the rules of one resource: how its objects are defaulted and
// validated before they are written. It is the one value a resource's
// registry entry hands to the Handler.
//
// A strategy may implement more of the small interfaces below; the Handler
// looks for them with a type assertion when it is created (as net/http
// looks for http.Flusher), and uses the documented default for each one a
// strategy lacks:
//
//   - CreatePreparer: resets what a client may not set on create. Default:
//     nothing is reset.
//   - UpdatePreparer: makes an update keep what only a subresource may
//     change. Default: the update replaces everything.
//   - StatusPreparer: enables the status subresource. Default: none (404).
//   - SubresourceUpdater: enables more subresources that update part of
//     the object. Default: none (404).
//   - FieldFilterer: compiles fieldSelector. Default: metadata.name, and
//     metadata.namespace for a namespaced resource.
//   - TableConvertor: renders "kubectl get" tables. Default: NAME and AGE.
//   - Scaler: enables the scale subresource. Default: none (404).
//   - PatchSchemaProvider: the strategic merge patch schema. Default:
//     patch.SchemaOf the object's struct type (its patchStrategy and
//     patchMergeKey tags).
//   - ApplyTypeProvider: the server-side apply schema. Default:
//     fieldmanager.Deduced (maps granular, lists atomic).
//   - GracefulDeleter: graceful deletion (a pod bound to a node).
//     Default: every delete is immediate (or waits for finalizers).
type Strategy[T store.Object] interface {
	Defaulter[T]
	Validator[T]
}

// Defaulter fills unset fields.
type Defaulter[T store.Object] interface {
	// Default fills obj's unset fields in place. It runs on every create and
	// update after preparation and before admission and validation, and
	// must be idempotent.
	Default(obj T)
}

// Validator checks objects about to be written.
type Validator[T store.Object] interface {
	// Validate checks obj as it is about to be created. Return
	// store.FieldErrors so the 422 names every invalid field.
	Validate(obj T) error
	// ValidateUpdate checks obj as the replacement of the stored old.
	ValidateUpdate(obj, old T) error
}

// CreatePreparer is an optional piece of a Strategy.
type CreatePreparer[T store.Object] interface {
	// PrepareForCreate resets what a client may not set on create (for
	// example the status, when there is a status subresource). It runs
	// before defaulting, with the object's final name and UID already set.
	PrepareForCreate(obj T)
}

// UpdatePreparer is an optional piece of a Strategy.
type UpdatePreparer[T store.Object] interface {
	// PrepareForUpdate makes an update of the main resource keep what only
	// a subresource changes (for example copies old's status into obj). obj
	// is the caller's private copy; old is the stored object, read-only.
	PrepareForUpdate(obj, old T)
}

// StatusPreparer is an optional piece of a Strategy; implementing it
// enables the status subresource.
type StatusPreparer[T store.Object] interface {
	// PrepareForStatusUpdate returns the object a status update writes:
	// old with obj's status and obj's resourceVersion. It must not modify
	// old.
	PrepareForStatusUpdate(obj, old T) T
}

// SubresourceUpdater is an optional piece of a Strategy; implementing it
// enables subresources besides status and scale that, like status, update
// only their part of the stored object (a CertificateSigningRequest's
// approval): get, update and patch, through the same defaulting,
// admission and ValidateUpdate as the main resource.
type SubresourceUpdater[T store.Object] interface {
	// UpdateSubresources names the subresources.
	UpdateSubresources() []string
	// PrepareForSubresourceUpdate returns the object an update of sub
	// writes: old with the part sub owns taken from obj, and obj's
	// resourceVersion. It must not modify old.
	PrepareForSubresourceUpdate(sub string, obj, old T) T
}

// FieldFilterer is an optional piece of a Strategy.
type FieldFilterer interface {
	// FieldFilter compiles a fieldSelector into a store filter (nil for
	// the empty selector). Errors should wrap store.ErrInvalid and name the
	// problem; they are answered with 400.
	FieldFilter(selector string) (func(store.Object) bool, error)
}

// TableConvertor is an optional piece of a Strategy.
type TableConvertor[T store.Object] interface {
	// Table renders objects as a meta.k8s.io/v1 Table for "kubectl get".
	Table(objs []T, opts table.Options) (*table.Table, error)
}

// Scaler is an optional piece of a Strategy; implementing it enables the
// scale subresource.
type Scaler[T store.Object] interface {
	// Scale returns obj's Scale object: any JSON value shaped like
	// autoscaling/v1 Scale (metadata, spec.replicas, status).
	Scale(obj T) any
	// SetReplicas sets obj's desired replicas.
	SetReplicas(obj T, replicas int32)
}

// PatchSchemaProvider is an optional piece of a Strategy.
type PatchSchemaProvider interface {
	// PatchSchema returns the strategic merge patch schema of the object.
	PatchSchema() *patch.Schema
}

// ApplyTypeProvider is an optional piece of a Strategy.
type ApplyTypeProvider interface {
	// ApplyType returns the structured-merge-diff type of the object (see
	// fieldmanager.NewTypes): it decides how server-side apply merges
	// lists and maps, and which fields a manager owns. A type that is not
	// valid is an error of NewHandler.
	ApplyType() typed.ParseableType
}

// GracefulDeleter is an optional piece of a Strategy; implementing it makes
// deletes graceful, as Kubernetes deletes pods: the first delete only
// marks the object (metadata.deletionTimestamp = now + the grace period,
// metadata.deletionGracePeriodSeconds) and answers 200 with it, and an
// agent (the kubelet) deletes it for good with a grace period of 0 once it
// has stopped what the object stands for. A later delete may only shorten
// the grace period; one with grace 0 deletes at once (finalizers still
// hold the object).
type GracefulDeleter[T store.Object] interface {
	// GracePeriod returns the grace period of deleting obj, given the
	// client's DeleteOptions.gracePeriodSeconds (nil when unset); 0
	// deletes at once.
	GracePeriod(obj T, requested *int64) int64
}

// NoRules is the Strategy of a resource without rules: nothing is
// defaulted and everything the store accepts is valid. It is the default
// when Config.Strategy is nil, and can be embedded by strategies that only
// add optional pieces.
type NoRules[T store.Object] struct{}

// Default does nothing.
func (NoRules[T]) Default(T) {}

// Validate accepts every object.
func (NoRules[T]) Validate(T) error { return nil }

// ValidateUpdate accepts every update.
func (NoRules[T]) ValidateUpdate(_, _ T) error { return nil }

var _ Strategy[store.Object] = NoRules[store.Object]{}

// rules is a strategy with its optional pieces resolved.
type rules[T store.Object] struct {
	Strategy[T]
	prepareCreate func(T)
	prepareUpdate func(obj, old T)
	status        StatusPreparer[T] // nil: no status subresource
	subresources  SubresourceUpdater[T]
	subNames      []string
	fieldFilter   func(string) (func(store.Object) bool, error)
	table         func([]T, table.Options) (*table.Table, error)
	scale         Scaler[T] // nil: no scale subresource
	schema        *patch.Schema
	applyType     typed.ParseableType
	graceful      GracefulDeleter[T] // nil: immediate deletes
}

func resolveRules[T store.Object](s Strategy[T], res store.Resource, elem reflect.Type) *rules[T] {
	if s == nil {
		s = NoRules[T]{}
	}
	r := &rules[T]{Strategy: s, prepareCreate: func(T) {}, prepareUpdate: func(_, _ T) {}}
	if p, ok := s.(CreatePreparer[T]); ok {
		r.prepareCreate = p.PrepareForCreate
	}
	if p, ok := s.(UpdatePreparer[T]); ok {
		r.prepareUpdate = p.PrepareForUpdate
	}
	r.status, _ = s.(StatusPreparer[T])
	if u, ok := s.(SubresourceUpdater[T]); ok {
		r.subresources, r.subNames = u, u.UpdateSubresources()
	}
	r.scale, _ = s.(Scaler[T])
	r.graceful, _ = s.(GracefulDeleter[T])
	if f, ok := s.(FieldFilterer); ok {
		r.fieldFilter = f.FieldFilter
	} else {
		r.fieldFilter = store.MetadataFields[T](res.Namespaced).Filter
	}
	if t, ok := s.(TableConvertor[T]); ok {
		r.table = t.Table
	} else {
		r.table = table.MustBuilder(table.NameColumn[T](), table.AgeColumn[T]()).Build
	}
	if p, ok := s.(PatchSchemaProvider); ok {
		r.schema = p.PatchSchema()
	}
	if r.schema == nil {
		r.schema = patch.SchemaOf(elem)
	}
	if p, ok := s.(ApplyTypeProvider); ok {
		r.applyType = p.ApplyType()
	}
	return r
}
