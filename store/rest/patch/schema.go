package patch

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
)

// Kind is the shape of a JSON value in a Schema.
type Kind int

// The schema kinds.
const (
	// Primitive: a scalar or a value with its own JSON encoding (a
	// timestamp, a quantity): replaced as a whole.
	Primitive Kind = iota
	// Object: a struct, with named fields.
	Object
	// Map: a Go map with string keys; every value has the same schema.
	Map
	// List: a slice; every element has the same schema.
	List
)

// Schema describes a JSON document's structure as a Go type gives it:
// which members are objects, maps and lists, and for each list field its
// patch strategy and merge key (from the patchStrategy and patchMergeKey
// struct tags, as in Kubernetes). Strategic merge patch uses it. Schemas are
// immutable and safe for concurrent use.
type Schema struct {
	kind   Kind
	fields map[string]*Field // Object
	elem   *Schema           // Map, List
}

// Field is one member of an object schema.
type Field struct {
	// Schema is the member's value schema.
	Schema *Schema
	// Merge: lists merge (by MergeKey for lists of objects, as a set for
	// lists of scalars) instead of being replaced.
	Merge bool
	// RetainKeys: the member accepts the $retainKeys directive.
	RetainKeys bool
	// MergeKey names the member that identifies list elements.
	MergeKey string
}

// Kind returns the schema's kind.
func (s *Schema) Kind() Kind {
	if s == nil {
		return Primitive
	}
	return s.kind
}

// Field returns the schema of an object member (or of any map value), or nil
// when the schema does not know it.
func (s *Schema) Field(name string) *Field {
	if s == nil {
		return nil
	}
	switch s.kind {
	case Object:
		return s.fields[name]
	case Map:
		return &Field{Schema: s.elem}
	}
	return nil
}

// Elem returns the element schema of a list or map, or nil.
func (s *Schema) Elem() *Schema {
	if s == nil {
		return nil
	}
	return s.elem
}

// FieldNames returns the object's member names (unsorted).
func (s *Schema) FieldNames() []string {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.fields))
	for n := range s.fields {
		names = append(names, n)
	}
	return names
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[reflect.Type]*Schema{}

	// extraTags adds patch tags to fields of types this package cannot tag
	// itself: Kubernetes merges metadata.finalizers as a set and
	// metadata.ownerReferences by uid.
	extraTags = map[reflect.Type]map[string]Field{
		reflect.TypeFor[store.ObjectMeta](): {
			"finalizers":      {Merge: true},
			"ownerReferences": {Merge: true, MergeKey: "uid"},
		},
	}
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// SchemaFor returns the schema of T's JSON encoding.
func SchemaFor[T any]() *Schema { return SchemaOf(reflect.TypeFor[T]()) }

// SchemaOf returns the schema of t's JSON encoding, derived from its json,
// patchStrategy and patchMergeKey struct tags. Results are cached.
func SchemaOf(t reflect.Type) *Schema {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	return schemaOf(t)
}

func schemaOf(t reflect.Type) *Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := schemaCache[t]; ok {
		return s
	}
	s := &Schema{}
	schemaCache[t] = s // placeholder for recursive types
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) ||
		t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return s // primitive
	}
	switch t.Kind() {
	case reflect.Struct:
		s.kind = Object
		s.fields = map[string]*Field{}
		addFields(s, t)
	case reflect.Map:
		s.kind = Map
		s.elem = schemaOf(t.Elem())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return s // []byte is a base64 string
		}
		s.kind = List
		s.elem = schemaOf(t.Elem())
	}
	return s
}

func addFields(s *Schema, t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		inline := f.Anonymous && name == "" || strings.Contains(","+opts+",", ",inline,") && name == ""
		if inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fd := &Field{Schema: schemaOf(f.Type)}
		for _, st := range strings.Split(f.Tag.Get("patchStrategy"), ",") {
			switch st {
			case "merge":
				fd.Merge = true
			case "retainKeys":
				fd.RetainKeys = true
			}
		}
		fd.MergeKey = f.Tag.Get("patchMergeKey")
		if extra, ok := extraTags[t][name]; ok {
			fd.Merge, fd.MergeKey = extra.Merge, extra.MergeKey
		}
		s.fields[name] = fd
	}
}
