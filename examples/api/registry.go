package api

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/internal/deepcopy"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// ErrWrongType is wrapped when an untyped Descriptor method gets an object
// of another kind; it wraps store.ErrInvalid.
var ErrWrongType = fmt.Errorf("%w: wrong object type", store.ErrInvalid)

// Kind describes one served resource type: its identity, names, field
// selectors, defaulting, validation, table columns, patch schema and
// subresources. The package-level values (PodKind, NodeKind, ...) are the
// registry; they are immutable and safe for concurrent use.
type Kind[T store.Object] struct {
	resource     Resource
	singular     string
	shortNames   []string
	subresources []string
	categories   []string
	newObj       func() T
	fields       map[string]func(T) string
	defaulter    func(T)
	validator    func(T) store.FieldErrors
	updateCheck  func(old, new T) store.FieldErrors
	table        *table.Builder[T]
	schema       *patch.Schema
	scale        func(T) *Scale
	setReplicas  func(T, int32)
	// createStatus sets the status a created object starts with; nil clears
	// it (for kinds with a status subresource).
	createStatus func(T)
	// keepStatusOnCreate: the creator may set the status (nodes register
	// with theirs).
	keepStatusOnCreate bool
}

// Descriptor is the untyped view of a Kind, for discovery and for code that
// handles every resource alike.
type Descriptor interface {
	// Resource returns the plural name, apiVersion, kind and scope.
	Resource() Resource
	// Singular returns the lowercase singular name, e.g. "pod".
	Singular() string
	// ShortNames returns abbreviations kubectl accepts, e.g. "po".
	ShortNames() []string
	// Subresources returns the subresource names: status, scale, binding.
	Subresources() []string
	// Categories returns the kubectl categories, e.g. "all".
	Categories() []string
	// ListKind returns the list's kind, e.g. "PodList".
	ListKind() string
	// FieldLabels returns the supported field selector labels, sorted.
	FieldLabels() []string
	// NewObject returns a new empty object of this kind with TypeMeta set.
	NewObject() store.Object
	// Schema returns the strategic merge patch schema.
	Schema() *patch.Schema
	// DefaultObject fills defaults; ErrWrongType for another kind.
	DefaultObject(obj store.Object) error
	// ValidateObject validates; store.FieldErrors or ErrWrongType.
	ValidateObject(obj store.Object) error
	// TableColumns returns the server-side table's column definitions.
	TableColumns() []table.ColumnDefinition
}

var _ Descriptor = (*Kind[*Pod])(nil)

// Resource returns the resource's identity.
func (k *Kind[T]) Resource() Resource { return k.resource }

// Singular returns the lowercase singular name.
func (k *Kind[T]) Singular() string { return k.singular }

// ShortNames returns the short names.
func (k *Kind[T]) ShortNames() []string { return append([]string(nil), k.shortNames...) }

// Subresources returns the subresource names.
func (k *Kind[T]) Subresources() []string { return append([]string(nil), k.subresources...) }

// HasSubresource reports whether name is one of the subresources.
func (k *Kind[T]) HasSubresource(name string) bool {
	for _, s := range k.subresources {
		if s == name {
			return true
		}
	}
	return false
}

// Categories returns the kubectl categories.
func (k *Kind[T]) Categories() []string { return append([]string(nil), k.categories...) }

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

// Schema returns the strategic merge patch schema of T.
func (k *Kind[T]) Schema() *patch.Schema { return k.schema }

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

// ValidateUpdate checks new as a replacement of old: Validate(new) plus
// the kind's immutability rules (for example a pod's spec, a workload's
// selector).
func (k *Kind[T]) ValidateUpdate(old, new T) error {
	var errs store.FieldErrors
	if err := k.Validate(new); err != nil {
		errs = append(errs, err.(store.FieldErrors)...)
	}
	if k.updateCheck != nil {
		errs = append(errs, k.updateCheck(old, new)...)
	}
	return errs.ErrOrNil()
}

// FieldLabels returns the supported field selector labels, sorted.
func (k *Kind[T]) FieldLabels() []string {
	labels := make([]string, 0, len(k.fields))
	for l := range k.fields {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	return labels
}

// FieldValue returns obj's value for a field label, and whether the label
// is supported.
func (k *Kind[T]) FieldValue(obj T, label string) (string, bool) {
	f, ok := k.fields[label]
	if !ok {
		return "", false
	}
	return f(obj), true
}

// FieldMatcher turns a parsed field selector into a predicate. A label this
// kind does not support gives an error wrapping ErrFieldSelector that lists
// the supported ones.
func (k *Kind[T]) FieldMatcher(sel FieldSelector) (func(T) bool, error) {
	type term struct {
		get func(T) string
		neg bool
		val string
	}
	terms := make([]term, 0, len(sel))
	for _, r := range sel {
		f, ok := k.fields[r.Field]
		if !ok {
			return nil, fmt.Errorf("%w: %q is not a known field selector for %s: only %s",
				ErrFieldSelector, r.Field, k.resource.Name, quoteAll(k.FieldLabels()))
		}
		terms = append(terms, term{get: f, neg: r.Op == "!=", val: r.Value})
	}
	return func(obj T) bool {
		for _, t := range terms {
			if (t.get(obj) == t.val) == t.neg {
				return false
			}
		}
		return true
	}, nil
}

// FieldFilter parses a field selector string and returns a predicate over
// store.Object for store.ListOptions.Filter (nil for the empty selector).
// Objects of another type never match.
func (k *Kind[T]) FieldFilter(selector string) (func(store.Object) bool, error) {
	sel, err := ParseFieldSelector(selector)
	if err != nil {
		return nil, err
	}
	if sel.Empty() {
		return nil, nil
	}
	m, err := k.FieldMatcher(sel)
	if err != nil {
		return nil, err
	}
	return func(o store.Object) bool {
		t, ok := o.(T)
		return ok && m(t)
	}, nil
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// TableBuilder returns the kind's server-side table builder.
func (k *Kind[T]) TableBuilder() *table.Builder[T] { return k.table }

// TableColumns returns the column definitions of the kind's table.
func (k *Kind[T]) TableColumns() []table.ColumnDefinition { return k.table.Columns() }

// Table renders objs as a server-side Table.
func (k *Kind[T]) Table(objs []T, opts table.Options) (*table.Table, error) {
	return k.table.Build(objs, opts)
}

// Scale returns obj's scale subresource, or false if the kind has none.
func (k *Kind[T]) Scale(obj T) (*Scale, bool) {
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

// CopyStatus sets dst's status to a deep copy of src's: a status update
// keeps everything else of the stored object, and a main-resource update
// keeps the stored status (copy old into new). No-op for kinds without a
// status field.
func (k *Kind[T]) CopyStatus(dst, src T) {
	d := reflect.ValueOf(dst).Elem().FieldByName("Status")
	s := reflect.ValueOf(src).Elem().FieldByName("Status")
	if !d.IsValid() || !s.IsValid() {
		return
	}
	deepcopy.Into(d, s)
}

// ClearStatus resets obj's status to the zero value, as a create through
// the main resource does for kinds with a status subresource.
func (k *Kind[T]) ClearStatus(obj T) {
	if f := reflect.ValueOf(obj).Elem().FieldByName("Status"); f.IsValid() {
		f.SetZero()
	}
}

// PrepareForCreate resets what a client may not set when creating through
// the main resource: for kinds with a status subresource the status starts
// empty (pods start Pending, namespaces Active; nodes keep theirs). Call it
// before Default and Validate.
func (k *Kind[T]) PrepareForCreate(obj T) {
	if !k.HasStatus() || k.keepStatusOnCreate {
		return
	}
	k.ClearStatus(obj)
	if k.createStatus != nil {
		k.createStatus(obj)
	}
}

// PrepareForUpdate makes an update through the main resource keep the
// stored status (status changes go through the status subresource). obj is
// the new object, old the stored one.
func (k *Kind[T]) PrepareForUpdate(obj, old T) {
	if k.HasStatus() {
		k.CopyStatus(obj, old)
	}
}

// PrepareForStatusUpdate returns the object a status-subresource update
// writes: a copy of the stored object old with obj's status and obj's
// resourceVersion (the update's precondition). Everything else a client
// sends to /status is ignored.
func (k *Kind[T]) PrepareForStatusUpdate(obj, old T) T {
	out := store.Clone(old)
	k.CopyStatus(out, obj)
	out.GetObjectMeta().ResourceVersion = obj.GetObjectMeta().ResourceVersion
	return out
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
