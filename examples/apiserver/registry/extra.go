package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// KindSpec describes a kind of the library user's own, served beside the
// built-in ones (see NewKind and New): a Go type implementing store.Object
// with a JSON encoding, like the examples' API types. As Kubernetes serves
// custom resources, such a kind speaks JSON only (unless T carries
// generated protobuf methods), supports every verb, server-side apply and
// JSON merge patch, and has a status subresource if Status is set.
type KindSpec[T store.Object] struct {
	// Resource is the plural name, apiVersion ("<group>/<version>", a named
	// group: the core group is Kubernetes' own), kind and scope. Required.
	Resource store.Resource
	// Singular is the lowercase singular name; default the lowercase kind.
	Singular string
	// ShortNames are abbreviations kubectl accepts; Categories the kubectl
	// categories (such as "all"). Default none.
	ShortNames, Categories []string
	// New returns a new empty object. Required.
	New func() T
	// Default fills unset fields in place; nil: no defaults.
	Default func(T)
	// Validate checks an object as it would be stored, after Default; the
	// object's metadata (name, namespace iff namespaced, labels) is
	// checked besides. Each error names its field. nil: metadata only.
	Validate func(T) store.FieldErrors
	// ValidateUpdate adds the rules of an update of old to obj
	// (immutable fields); nil: none.
	ValidateUpdate func(obj, old T) store.FieldErrors
	// Status adds the status subresource: T's field named Status is
	// written only through it (cleared on create, kept on update).
	Status bool
	// Columns are the kubectl get columns between NAME and AGE; nil: NAME
	// and AGE only.
	Columns []table.Column[T]
	// Fields are field selector labels besides metadata.name (and
	// metadata.namespace); nil: those only.
	Fields store.Fields[T]
	// Schemas is a JSON object of OpenAPI v3 schemas by name: the kind's
	// own (named SchemaName), optionally its list's (SchemaName+"List",
	// generated otherwise), and every schema they refer to (as
	// "#/components/schemas/<name>") that is not one of the built-in
	// ones, such as io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta and
	// io.k8s.apimachinery.pkg.api.resource.Quantity. kubectl explain,
	// apply and its field validation read it; server-side apply takes its
	// list and map semantics from it. Required.
	Schemas []byte
	// SchemaName is the name of the kind's schema; default, as
	// Kubernetes names a custom resource's, the group's labels reversed,
	// the version and the kind: "dev.setpoint.offers.v1alpha1.Framework".
	SchemaName string
}

// NewKind returns the kind spec describes, or an error naming the first
// problem of spec: a missing or malformed field, a schema that is missing,
// unparseable or refers to a schema nobody defines, or one whose name
// collides with a built-in schema.
func NewKind[T store.Object](spec KindSpec[T]) (*Kind[T], error) {
	r := spec.Resource
	group, version := GroupVersion(r)
	switch {
	case r.Name == "" || r.Kind == "" || r.APIVersion == "":
		return nil, fmt.Errorf("registry: KindSpec.Resource needs a name, an apiVersion and a kind, got %+v", r)
	case group == "" || version == "":
		return nil, fmt.Errorf("registry: KindSpec.Resource.APIVersion %q is not <group>/<version> of a named group", r.APIVersion)
	case r.Name != strings.ToLower(r.Name) || strings.ContainsAny(r.Name, "/."):
		return nil, fmt.Errorf("registry: KindSpec.Resource.Name %q must be a lowercase plural without '/' or '.'", r.Name)
	case spec.New == nil:
		return nil, fmt.Errorf("registry: KindSpec.New is required (%s)", r.Name)
	}
	if obj := spec.New(); reflect.ValueOf(obj).IsNil() {
		return nil, fmt.Errorf("registry: KindSpec.New returned nil (%s)", r.Name)
	} else if _, ok := reflect.TypeOf(obj).Elem().FieldByName("Status"); spec.Status && !ok {
		return nil, fmt.Errorf("registry: KindSpec.Status is set but %T has no Status field", obj)
	}
	name := spec.SchemaName
	if name == "" {
		labels := strings.Split(group, ".")
		slices.Reverse(labels)
		name = strings.Join(labels, ".") + "." + version + "." + r.Kind
	}
	own, err := kindSchemas(spec.Schemas, name, r)
	if err != nil {
		return nil, err
	}
	fields := store.MetadataFields[T](r.Namespaced)
	maps.Copy(fields, spec.Fields)
	cols := []table.Column[T]{table.NameColumn[T]()}
	cols = append(append(cols, spec.Columns...), table.AgeColumn[T]())
	tb, err := table.NewBuilder(cols...)
	if err != nil {
		return nil, fmt.Errorf("registry: KindSpec.Columns of %s: %w", r.Name, err)
	}
	singular := spec.Singular
	if singular == "" {
		singular = strings.ToLower(r.Kind)
	}
	k := &Kind[T]{
		resource: r, singular: singular,
		shortNames: slices.Clone(spec.ShortNames), categories: slices.Clone(spec.Categories),
		newObj: spec.New, fields: fields, defaulter: spec.Default, validator: spec.Validate,
		table: tb, schema: patch.SchemaOf(reflect.TypeFor[T]()),
		openAPIName: name, ownSchemas: own,
	}
	if spec.ValidateUpdate != nil {
		k.updateCheck = func(old, obj T) store.FieldErrors { return spec.ValidateUpdate(obj, old) }
	}
	if spec.Status {
		k.subresources = []string{"status"}
	}
	k.applyType = sync.OnceValues(func() (typed.ParseableType, error) { return extraApplyType(r, own) })
	if _, err := k.applyType(); err != nil {
		return nil, err
	}
	return k, nil
}

// kindSchemas parses a KindSpec's schemas, tags the kind's (and its
// list's, which it generates if absent) with its group, version and kind,
// and checks that every reference resolves.
func kindSchemas(raw []byte, name string, r store.Resource) (map[string]any, error) {
	own := map[string]any{}
	if len(raw) == 0 {
		return nil, fmt.Errorf("registry: KindSpec.Schemas of %s is required (kubectl validates and explains against it)", r.Name)
	}
	if err := json.Unmarshal(raw, &own); err != nil {
		return nil, fmt.Errorf("registry: KindSpec.Schemas of %s: %w", r.Name, err)
	}
	builtins, err := builtinSchemas()
	if err != nil {
		return nil, err
	}
	for n, s := range own {
		if _, ok := builtins[n]; ok {
			return nil, fmt.Errorf("registry: KindSpec.Schemas of %s: %s is a built-in schema", r.Name, n)
		}
		if _, ok := s.(map[string]any); !ok {
			return nil, fmt.Errorf("registry: KindSpec.Schemas of %s: %s is not a JSON object", r.Name, n)
		}
	}
	group, version := GroupVersion(r)
	kindSchema, ok := own[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("registry: KindSpec.Schemas of %s has no schema %s", r.Name, name)
	}
	own[name] = withGVK(kindSchema, group, version, r.Kind)
	list, ok := own[name+"List"].(map[string]any)
	if !ok {
		str := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
		list = map[string]any{
			"type": "object", "description": "A list of " + r.Kind + " objects.", "required": []any{"items"},
			"properties": map[string]any{
				"apiVersion": str("The group and version of the object's schema."),
				"kind":       str("The object's kind, " + r.Kind + "List."),
				"metadata":   map[string]any{"allOf": []any{map[string]any{"$ref": v3Ref + "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}}, "description": "The list's metadata."},
				"items":      map[string]any{"type": "array", "description": "The " + r.Kind + " objects.", "items": map[string]any{"$ref": v3Ref + name}},
			},
		}
	}
	own[name+"List"] = withGVK(list, group, version, r.Kind+"List")
	all := maps.Clone(builtins)
	maps.Copy(all, own)
	used, err := closure(all, []string{name, name + "List"})
	if err != nil {
		return nil, fmt.Errorf("registry: KindSpec.Schemas of %s: %w", r.Name, err)
	}
	// The kind keeps the schemas it uses: one document may describe a
	// whole group.
	maps.DeleteFunc(own, func(n string, _ any) bool { _, ok := used[n]; return !ok })
	return own, nil
}

// withGVK returns a copy of s tagged with x-kubernetes-group-version-kind.
func withGVK(s map[string]any, group, version, kind string) map[string]any {
	out := maps.Clone(s)
	out["x-kubernetes-group-version-kind"] = []any{map[string]any{"group": group, "version": version, "kind": kind}}
	return out
}

// withBuiltins returns the built-in schemas plus own.
func withBuiltins(own map[string]any) (map[string]any, error) {
	builtins, err := builtinSchemas()
	if err != nil {
		return nil, err
	}
	all := maps.Clone(builtins)
	maps.Copy(all, own)
	return all, nil
}

// schemaOwner is a kind of the library user's own (NewKind).
type schemaOwner interface{ extraSchemas() map[string]any }

func (k *Kind[T]) extraSchemas() map[string]any { return k.ownSchemas }

// listSchemaName is the name of d's list's schema.
func listSchemaName(d Descriptor) string {
	if o, ok := d.(schemaOwner); ok && o.extraSchemas() != nil {
		return d.OpenAPIName() + "List"
	}
	group, version := GroupVersion(d.Resource())
	return schemaName(group, version, d.ListKind())
}

// Registry is a set of served kinds: the built-in ones and the extra kinds
// of New. Its discovery and OpenAPI documents cover all of them. It is
// immutable and safe for concurrent use.
type Registry struct {
	kinds []Descriptor
	// own are the extra kinds' schemas.
	own     map[string]any
	schemas func() (map[string]any, error)
	v2      func() ([]byte, error)
}

// defaultRegistry is the built-in kinds alone.
var defaultRegistry = sync.OnceValue(func() *Registry {
	r, err := New()
	if err != nil {
		panic(err) // the built-in kinds are consistent (tested)
	}
	return r
})

// Default returns the registry of the built-in kinds alone.
func Default() *Registry { return defaultRegistry() }

// New returns a registry of the built-in kinds and extra, which are kinds
// made with NewKind. It fails, naming the kind, if one is not made with
// NewKind, or if it repeats a served resource (same apiVersion and
// plural) or a served plural name (kinds share the store's key space,
// which names the plural only) or a schema name.
func New(extra ...Descriptor) (*Registry, error) {
	r := &Registry{kinds: Kinds(), own: map[string]any{}}
	plurals := map[string]store.Resource{}
	for _, d := range r.kinds {
		plurals[d.Resource().Name] = d.Resource()
	}
	for i, d := range extra {
		o, ok := d.(schemaOwner)
		if d == nil || !ok || o.extraSchemas() == nil {
			return nil, fmt.Errorf("registry: extra kind %d (%T) was not made with NewKind", i, d)
		}
		res := d.Resource()
		if prev, ok := plurals[res.Name]; ok {
			return nil, fmt.Errorf("registry: extra kind %s %s: the plural %q is already served by %s %s", res.APIVersion, res.Kind, res.Name, prev.APIVersion, prev.Kind)
		}
		plurals[res.Name] = res
		for n, s := range o.extraSchemas() {
			if prev, dup := r.own[n]; dup && !reflect.DeepEqual(prev, s) {
				return nil, fmt.Errorf("registry: extra kind %s %s: schema %s is defined twice, differently", res.APIVersion, res.Kind, n)
			}
			r.own[n] = s
		}
		r.kinds = append(r.kinds, d)
	}
	sort.SliceStable(r.kinds, func(i, j int) bool {
		a, b := r.kinds[i].Resource(), r.kinds[j].Resource()
		if groupOf(a) != groupOf(b) {
			return groupOf(a) < groupOf(b)
		}
		return a.Name < b.Name
	})
	r.schemas = sync.OnceValues(func() (map[string]any, error) { return withBuiltins(r.own) })
	r.v2 = sync.OnceValues(r.buildV2)
	return r, nil
}

// Kinds returns the registry's kinds, core group first, then by group and
// name.
func (r *Registry) Kinds() []Descriptor { return slices.Clone(r.kinds) }

// Lookup is the package-level Lookup over the registry's kinds.
func (r *Registry) Lookup(name string) (Descriptor, bool) { return lookup(r.kinds, name) }

// LookupResource is the package-level LookupResource over the registry's
// kinds.
func (r *Registry) LookupResource(apiVersion, plural string) (Descriptor, bool) {
	for _, d := range r.kinds {
		if res := d.Resource(); res.APIVersion == apiVersion && res.Name == plural {
			return d, true
		}
	}
	return nil, false
}

// StringColumn is a kubectl get column of type string whose cell is
// cell(obj); a helper for KindSpec.Columns.
func StringColumn[T store.Object](name, description string, cell func(T) string) table.Column[T] {
	return table.Column[T]{
		Definition: table.ColumnDefinition{Name: name, Type: "string", Description: description},
		Cell:       func(obj T, _ time.Time) any { return cell(obj) },
	}
}
