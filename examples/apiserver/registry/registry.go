package registry

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// ErrWrongType is wrapped when an untyped Descriptor method gets an object
// of another kind; it wraps store.ErrInvalid.
var ErrWrongType = fmt.Errorf("%w: wrong object type", store.ErrInvalid)

// Kind describes one served resource type: its identity, names, field
// selectors, defaulting, validation, table columns, patch schema and
// subresources. The package-level values (PodKind, NodeKind, ...) are the
// registry; they are immutable and safe for concurrent use. The apiserver
// serves a kind through its Strategy.
type Kind[T store.Object] struct {
	resource     store.Resource
	singular     string
	shortNames   []string
	subresources []string
	categories   []string
	newObj       func() T
	fields       store.Fields[T]
	defaulter    func(T)
	validator    func(T) store.FieldErrors
	updateCheck  func(old, new T) store.FieldErrors
	table        *table.Builder[T]
	schema       *patch.Schema
	scale        func(T) *autoscaling.Scale
	setReplicas  func(T, int32)
	// createStatus sets the status a created object starts with; nil clears
	// it (for kinds with a status subresource).
	createStatus func(T)
	// keepStatusOnCreate: the creator may set the status (nodes register
	// with theirs).
	keepStatusOnCreate bool
	// gracePeriod, when set, makes deletes graceful (see
	// rest.GracefulDeleter).
	gracePeriod func(obj T, requested *int64) int64
	// prepareCreate and prepareUpdate add the kind's own preparation (a
	// Job's generated selector) and reset what a client may not set beyond
	// the status (a namespace's spec.finalizers); nil: nothing.
	prepareCreate func(T)
	prepareUpdate func(obj, old T)
	// subresourceUpdates are the subresources besides status and scale that
	// update part of the object (a CertificateSigningRequest's approval):
	// each returns old with obj's part.
	subresourceUpdates map[string]func(obj, old T) T
	// statusUpdate, if set, replaces the status subresource's rule (old
	// with obj's status) for kinds whose status update keeps more.
	statusUpdate func(obj, old T) T
	// Set by NewKind for a kind of the library user's own: its schema's
	// name, its schemas (and its list's, and those they refer to that
	// are not built in), and its server-side apply type.
	openAPIName string
	ownSchemas  map[string]any
	applyType   func() (typed.ParseableType, error)
}

// Descriptor is the untyped view of a Kind, for discovery and for code that
// handles every resource alike.
type Descriptor interface {
	// Resource returns the plural name, apiVersion, kind and scope.
	Resource() store.Resource
	// Singular returns the lowercase singular name, e.g. "pod".
	Singular() string
	// ShortNames returns abbreviations kubectl accepts, e.g. "po".
	ShortNames() []string
	// Subresources returns the subresource names: status, scale, binding.
	Subresources() []string
	// Categories returns the kubectl categories, e.g. "all".
	Categories() []string
	// OpenAPIName returns the name of the kind's schema in the OpenAPI
	// documents, e.g. "io.k8s.api.core.v1.Pod".
	OpenAPIName() string
	// ListKind returns the list's kind, e.g. "PodList".
	ListKind() string
	// FieldLabels returns the supported field selector labels, sorted.
	FieldLabels() []string
	// NewObject returns a new empty object of this kind with TypeMeta set.
	NewObject() store.Object
	// PatchSchema returns the strategic merge patch schema.
	PatchSchema() *patch.Schema
	// DefaultObject fills defaults; ErrWrongType for another kind.
	DefaultObject(obj store.Object) error
	// ValidateObject validates; store.FieldErrors or ErrWrongType.
	ValidateObject(obj store.Object) error
	// TableColumns returns the server-side table's column definitions.
	TableColumns() []table.ColumnDefinition
}

var _ Descriptor = (*Kind[*api.Pod])(nil)

// Resource returns the resource's identity.
func (k *Kind[T]) Resource() store.Resource { return k.resource }

// Singular returns the lowercase singular name.
func (k *Kind[T]) Singular() string { return k.singular }

// ShortNames returns the short names.
func (k *Kind[T]) ShortNames() []string { return slices.Clone(k.shortNames) }

// Subresources returns the subresource names.
func (k *Kind[T]) Subresources() []string { return slices.Clone(k.subresources) }

// HasSubresource reports whether name is one of the subresources.
func (k *Kind[T]) HasSubresource(name string) bool { return slices.Contains(k.subresources, name) }

// Categories returns the kubectl categories.
func (k *Kind[T]) Categories() []string { return slices.Clone(k.categories) }

// OpenAPIName returns the name of the kind's schema, as Kubernetes names
// it: io.k8s.api.<group's first label, or core>.<version>.<Kind> (for a
// kind of NewKind, its KindSpec.SchemaName).
func (k *Kind[T]) OpenAPIName() string {
	if k.openAPIName != "" {
		return k.openAPIName
	}
	group, version := GroupVersion(k.resource)
	short, _, _ := strings.Cut(group, ".")
	if short == "" {
		short = "core"
	}
	return "io.k8s.api." + short + "." + version + "." + k.resource.Kind
}

// ListKind returns the kind of the list, e.g. "PodList".
func (k *Kind[T]) ListKind() string { return k.resource.Kind + "List" }

// New returns a new empty object with apiVersion and kind set.
func (k *Kind[T]) New() T {
	obj := k.newObj()
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = k.resource.APIVersion, k.resource.Kind
	return obj
}

// NewObject is New, untyped.
func (k *Kind[T]) NewObject() store.Object { return k.New() }

// PatchSchema returns the strategic merge patch schema of T.
func (k *Kind[T]) PatchSchema() *patch.Schema { return k.schema }

// Default fills unset fields with their defaults, in place.
func (k *Kind[T]) Default(obj T) {
	if k.defaulter != nil {
		k.defaulter(obj)
	}
}

// Validate checks obj as it would be created: metadata (name format for
// this kind, namespace present iff namespaced) and the kind's own rules. It
// returns store.FieldErrors (wrapping store.ErrInvalid) or nil. Call it
// after Default.
func (k *Kind[T]) Validate(obj T) error {
	errs := validateMeta(obj.GetObjectMeta(), k.resource)
	if k.validator != nil {
		errs = append(errs, k.validator(obj)...)
	}
	return errs.ErrOrNil()
}

// ValidateUpdate checks obj as the replacement of the stored old:
// Validate(obj) plus the kind's immutability rules (for example a pod's
// spec, a workload's selector).
func (k *Kind[T]) ValidateUpdate(obj, old T) error {
	var errs store.FieldErrors
	if err := k.Validate(obj); err != nil {
		errs = append(errs, err.(store.FieldErrors)...)
	}
	if k.updateCheck != nil {
		errs = append(errs, k.updateCheck(old, obj)...)
	}
	return errs.ErrOrNil()
}

// FieldLabels returns the supported field selector labels, sorted.
func (k *Kind[T]) FieldLabels() []string { return k.fields.Labels() }

// FieldValue returns obj's value for a field label, and whether the label
// is supported.
func (k *Kind[T]) FieldValue(obj T, label string) (string, bool) {
	f, ok := k.fields[label]
	if !ok {
		return "", false
	}
	return f(obj), true
}

// FieldFilter parses a field selector string and returns a predicate over
// store.Object for store.ListOptions.Filter (nil for the empty selector).
// Objects of another type never match. Errors wrap store.ErrFieldSelector;
// a label the kind does not support is one, listing those it does.
func (k *Kind[T]) FieldFilter(selector string) (func(store.Object) bool, error) {
	return k.fields.Filter(selector)
}

// TableColumns returns the column definitions of the kind's table.
func (k *Kind[T]) TableColumns() []table.ColumnDefinition { return k.table.Columns() }

// Table renders objs as a server-side Table.
func (k *Kind[T]) Table(objs []T, opts table.Options) (*table.Table, error) {
	return k.table.Build(objs, opts)
}

// Scale returns obj's scale subresource, or false if the kind has none.
func (k *Kind[T]) Scale(obj T) (*autoscaling.Scale, bool) {
	if k.scale == nil {
		return nil, false
	}
	return k.scale(obj), true
}

// SetReplicas sets obj's desired replicas from a Scale's spec, or reports
// false if the kind has no scale subresource.
func (k *Kind[T]) SetReplicas(obj T, replicas int32) bool {
	if k.setReplicas == nil {
		return false
	}
	k.setReplicas(obj, replicas)
	return true
}

// HasStatus reports whether the kind has a status subresource.
func (k *Kind[T]) HasStatus() bool { return k.HasSubresource("status") }

// copyStatus sets dst's status to a deep copy of src's: a status update
// keeps everything else of the stored object, and a main-resource update
// keeps the stored status (copy old into new). No-op for kinds without a
// status field.
func (k *Kind[T]) copyStatus(dst, src T) {
	d := reflect.ValueOf(dst).Elem().FieldByName("Status")
	if !d.IsValid() {
		return
	}
	d.Set(reflect.ValueOf(store.Clone(src)).Elem().FieldByName("Status"))
}

// clearStatus resets obj's status to the zero value, as a create through
// the main resource does for kinds with a status subresource.
func (k *Kind[T]) clearStatus(obj T) {
	if f := reflect.ValueOf(obj).Elem().FieldByName("Status"); f.IsValid() {
		f.SetZero()
	}
}

// DefaultObject is Default, untyped.
func (k *Kind[T]) DefaultObject(obj store.Object) error {
	t, ok := obj.(T)
	if !ok {
		return fmt.Errorf("%w: %T is not a %s", ErrWrongType, obj, k.resource.Kind)
	}
	k.Default(t)
	return nil
}

// ValidateObject is Validate, untyped.
func (k *Kind[T]) ValidateObject(obj store.Object) error {
	t, ok := obj.(T)
	if !ok {
		return fmt.Errorf("%w: %T is not a %s", ErrWrongType, obj, k.resource.Kind)
	}
	return k.Validate(t)
}

// Strategy returns the rules the apiserver serves the kind with
// (rest.Config.Strategy): Default, Validate and ValidateUpdate; create and
// update preparation; field selectors, the table and the patch schema; and
// the status and scale subresources exactly when the kind has them (the
// REST handler finds those pieces by type assertion, so a kind without
// them serves neither).
//
// Preparation, as Kubernetes' strategies do it: a create through the main
// resource of a kind with a status subresource starts with an empty status
// (pods start Pending, namespaces Active; nodes keep theirs); an update
// through the main resource keeps the stored status; a status update
// writes the stored object with the new status and resourceVersion only.
func (k *Kind[T]) Strategy() rest.Strategy[T] {
	base := strategy[T]{k}
	switch {
	case k.scale != nil && k.HasStatus():
		return scaleStrategy[T]{statusStrategy[T]{base}}
	case k.gracePeriod != nil && k.HasStatus():
		return gracefulStrategy[T]{statusStrategy[T]{base}}
	case len(k.subresourceUpdates) > 0 && k.HasStatus():
		return subresourceStrategy[T]{statusStrategy[T]{base}}
	case k.HasStatus():
		return statusStrategy[T]{base}
	}
	return base
}

// strategy is the rest.Strategy of a kind without subresources.
type strategy[T store.Object] struct{ k *Kind[T] }

var (
	_ rest.Strategy[*api.Pod]       = strategy[*api.Pod]{}
	_ rest.CreatePreparer[*api.Pod] = strategy[*api.Pod]{}
	_ rest.UpdatePreparer[*api.Pod] = strategy[*api.Pod]{}
	_ rest.FieldFilterer            = strategy[*api.Pod]{}
	_ rest.TableConvertor[*api.Pod] = strategy[*api.Pod]{}
	_ rest.PatchSchemaProvider      = strategy[*api.Pod]{}
	_ rest.ApplyTypeProvider        = strategy[*api.Pod]{}
	_ rest.StatusPreparer[*api.Pod] = statusStrategy[*api.Pod]{}
	_ rest.Scaler[*api.Pod]         = scaleStrategy[*api.Pod]{}
)

func (s strategy[T]) Default(obj T)                   { s.k.Default(obj) }
func (s strategy[T]) Validate(obj T) error            { return s.k.Validate(obj) }
func (s strategy[T]) ValidateUpdate(obj, old T) error { return s.k.ValidateUpdate(obj, old) }
func (s strategy[T]) PatchSchema() *patch.Schema      { return s.k.schema }
func (s strategy[T]) FieldFilter(sel string) (func(store.Object) bool, error) {
	return s.k.FieldFilter(sel)
}
func (s strategy[T]) Table(objs []T, opts table.Options) (*table.Table, error) {
	return s.k.Table(objs, opts)
}

func (s strategy[T]) PrepareForCreate(obj T) {
	if s.k.HasStatus() && !s.k.keepStatusOnCreate {
		s.k.clearStatus(obj)
		if s.k.createStatus != nil {
			s.k.createStatus(obj)
		}
	}
	if s.k.prepareCreate != nil {
		s.k.prepareCreate(obj)
	}
}

func (s strategy[T]) PrepareForUpdate(obj, old T) {
	if s.k.HasStatus() {
		s.k.copyStatus(obj, old)
	}
	if s.k.prepareUpdate != nil {
		s.k.prepareUpdate(obj, old)
	}
}

// statusStrategy adds the status subresource.
type statusStrategy[T store.Object] struct{ strategy[T] }

func (s statusStrategy[T]) PrepareForStatusUpdate(obj, old T) T {
	if s.k.statusUpdate != nil {
		out := s.k.statusUpdate(obj, store.Clone(old))
		out.GetObjectMeta().ResourceVersion = obj.GetObjectMeta().ResourceVersion
		return out
	}
	out := store.Clone(old)
	s.k.copyStatus(out, obj)
	out.GetObjectMeta().ResourceVersion = obj.GetObjectMeta().ResourceVersion
	return out
}

// gracefulStrategy adds graceful deletion (pods).
type gracefulStrategy[T store.Object] struct{ statusStrategy[T] }

var _ rest.GracefulDeleter[*api.Pod] = gracefulStrategy[*api.Pod]{}

func (s gracefulStrategy[T]) GracePeriod(obj T, requested *int64) int64 {
	return s.k.gracePeriod(obj, requested)
}

// subresourceStrategy adds the kind's other updatable subresources.
type subresourceStrategy[T store.Object] struct{ statusStrategy[T] }

var _ rest.SubresourceUpdater[*api.Pod] = subresourceStrategy[*api.Pod]{}

func (s subresourceStrategy[T]) UpdateSubresources() []string {
	names := make([]string, 0, len(s.k.subresourceUpdates))
	for n := range s.k.subresourceUpdates {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s subresourceStrategy[T]) PrepareForSubresourceUpdate(sub string, obj, old T) T {
	out := s.k.subresourceUpdates[sub](obj, store.Clone(old))
	out.GetObjectMeta().ResourceVersion = obj.GetObjectMeta().ResourceVersion
	return out
}

// scaleStrategy adds the scale subresource (autoscaling/v1 Scale).
type scaleStrategy[T store.Object] struct{ statusStrategy[T] }

func (s scaleStrategy[T]) Scale(obj T) any {
	sc, _ := s.k.Scale(obj)
	return sc
}

func (s scaleStrategy[T]) SetReplicas(obj T, replicas int32) { s.k.SetReplicas(obj, replicas) }
