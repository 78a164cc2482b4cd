package fieldmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// Names of the two types every converted schema carries for values whose
// shape the OpenAPI schema leaves open: the deduced type (maps are
// granular, lists and scalars atomic) and its atomic twin for list items.
const (
	deducedName = "__untyped_deduced_"
	atomicName  = "__untyped_atomic_"
)

// Types is a structured-merge-diff schema converted from an OpenAPI
// document: one named type per schema definition. It is immutable and safe
// for concurrent use.
type Types struct {
	schema *schema.Schema
	byGVK  map[string]string // "apiVersion/Kind" -> definition name
}

// oaSchema is the part of an OpenAPI (v2 or v3) schema object that the
// conversion reads: the JSON Schema shape and Kubernetes' extensions.
type oaSchema struct {
	Ref                  string               `json:"$ref"`
	Type                 string               `json:"type"`
	Format               string               `json:"format"`
	Properties           map[string]*oaSchema `json:"properties"`
	AdditionalProperties *additional          `json:"additionalProperties"`
	Items                *oaSchema            `json:"items"`
	AllOf                []*oaSchema          `json:"allOf"`
	OneOf                []*oaSchema          `json:"oneOf"`
	AnyOf                []*oaSchema          `json:"anyOf"`
	Default              any                  `json:"default"`
	Nullable             bool                 `json:"nullable"`
	ListType             string               `json:"x-kubernetes-list-type"`
	ListMapKeys          []string             `json:"x-kubernetes-list-map-keys"`
	MapType              string               `json:"x-kubernetes-map-type"`
	PatchStrategy        string               `json:"x-kubernetes-patch-strategy"`
	PatchMergeKey        string               `json:"x-kubernetes-patch-merge-key"`
	PreserveUnknown      bool                 `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString          bool                 `json:"x-kubernetes-int-or-string"`
	GVK                  []struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	} `json:"x-kubernetes-group-version-kind"`
}

// additional is additionalProperties: a schema, or a boolean.
type additional struct {
	allowed bool
	schema  *oaSchema
}

func (a *additional) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		a.allowed = true
		return nil
	case "false":
		return nil
	}
	a.allowed = true
	return json.Unmarshal(b, &a.schema)
}

// NewTypes converts the schema definitions of an OpenAPI document (v3
// components.schemas, or v2 definitions) into a structured-merge-diff
// schema. Each definition becomes a named type; the Kubernetes extensions
// decide how values merge and who owns what:
//
//   - x-kubernetes-list-type: atomic (the list is one value), set (scalar
//     items owned one by one), map (items keyed by x-kubernetes-list-map-keys).
//     A list without it is atomic, unless its patch strategy is merge: then
//     it is keyed by x-kubernetes-patch-merge-key, or a set without one.
//   - x-kubernetes-map-type: atomic makes a map or struct one value;
//     granular (the default) lets each field have its own owner.
//   - int-or-string and quantities (oneOf/anyOf of scalars) are untyped
//     scalars; an object without properties, additionalProperties or with
//     x-kubernetes-preserve-unknown-fields is deduced from its value.
//
// A $ref must point into the same document. Top-level definitions with
// x-kubernetes-group-version-kind can be found by Kind.
func NewTypes(openapi []byte) (*Types, error) {
	var doc struct {
		Components struct {
			Schemas map[string]*oaSchema `json:"schemas"`
		} `json:"components"`
		Definitions map[string]*oaSchema `json:"definitions"`
	}
	if err := json.Unmarshal(openapi, &doc); err != nil {
		return nil, fmt.Errorf("fieldmanager: decoding OpenAPI document: %w", err)
	}
	defs := doc.Components.Schemas
	if len(defs) == 0 {
		defs = doc.Definitions
	}
	if len(defs) == 0 {
		return nil, errors.New("fieldmanager: the OpenAPI document has no components.schemas or definitions")
	}
	c := converter{defs: defs}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	s := &schema.Schema{Types: make([]schema.TypeDef, 0, len(names)+2)}
	s.Types = append(s.Types, deducedTypeDefs()...)
	t := &Types{schema: s, byGVK: map[string]string{}}
	for _, n := range names {
		if n == deducedName || n == atomicName {
			return nil, fmt.Errorf("fieldmanager: definition name %q is reserved", n)
		}
		d := defs[n]
		if d == nil {
			return nil, fmt.Errorf("fieldmanager: definition %q is null", n)
		}
		atom, err := c.definitionAtom(d, 0)
		if err != nil {
			return nil, fmt.Errorf("fieldmanager: definition %q: %w", n, err)
		}
		s.Types = append(s.Types, schema.TypeDef{Name: n, Atom: atom})
		for _, g := range d.GVK {
			av := g.Version
			if g.Group != "" {
				av = g.Group + "/" + g.Version
			}
			t.byGVK[av+"/"+g.Kind] = n
		}
	}
	return t, nil
}

// Kind returns the type of the definition tagged with apiVersion and kind
// (x-kubernetes-group-version-kind), or false if there is none.
func (t *Types) Kind(apiVersion, kind string) (typed.ParseableType, bool) {
	n, ok := t.byGVK[apiVersion+"/"+kind]
	if !ok {
		return typed.ParseableType{}, false
	}
	return t.Named(n), true
}

// Named returns the type of the named definition; its IsValid reports
// whether there is one.
func (t *Types) Named(name string) typed.ParseableType {
	return typed.ParseableType{Schema: t.schema, TypeRef: schema.TypeRef{NamedType: &name}}
}

// Deduced is the type of objects without a schema: maps are granular
// (each key has its own owner), lists and scalars are atomic, as
// Kubernetes treats custom resources without a structural schema.
func Deduced() typed.ParseableType {
	return typed.DeducedParseableType
}

func deducedTypeDefs() []schema.TypeDef {
	untyped := schema.Untyped
	ref := func(n string) schema.TypeRef { return schema.TypeRef{NamedType: &n} }
	return []schema.TypeDef{
		{Name: atomicName, Atom: schema.Atom{
			Scalar: &untyped,
			List:   &schema.List{ElementType: ref(atomicName), ElementRelationship: schema.Atomic},
			Map:    &schema.Map{ElementType: ref(atomicName), ElementRelationship: schema.Atomic},
		}},
		{Name: deducedName, Atom: schema.Atom{
			Scalar: &untyped,
			List:   &schema.List{ElementType: ref(atomicName), ElementRelationship: schema.Atomic},
			Map:    &schema.Map{ElementType: ref(deducedName), ElementRelationship: schema.Separable},
		}},
	}
}

type converter struct {
	defs map[string]*oaSchema
}

// refName resolves "#/components/schemas/X" or "#/definitions/X" to X.
func (c *converter) refName(ref string) (string, error) {
	i := strings.LastIndexByte(ref, '/')
	if !strings.HasPrefix(ref, "#/") || i < 0 {
		return "", fmt.Errorf("$ref %q does not point into this document", ref)
	}
	n := ref[i+1:]
	if _, ok := c.defs[n]; !ok {
		return "", fmt.Errorf("$ref %q names no definition", ref)
	}
	return n, nil
}

// definitionAtom converts a named definition. Definitions whose values are
// open (deduced) get the deduced atom itself, since a TypeDef cannot be a
// reference.
func (c *converter) definitionAtom(s *oaSchema, depth int) (schema.Atom, error) {
	tr, err := c.typeRef(s)
	if err != nil {
		return schema.Atom{}, err
	}
	if tr.NamedType != nil {
		// A definition that is an alias ($ref or deduced): inline the
		// deduced atom, or the atom of the definition it points at.
		if *tr.NamedType == deducedName {
			return deducedTypeDefs()[1].Atom, nil
		}
		if depth > 32 {
			return schema.Atom{}, errors.New("definition is a cycle of references")
		}
		return c.definitionAtom(c.defs[*tr.NamedType], depth+1)
	}
	return tr.Inlined, nil
}

// refOf returns the definition a schema points at: its $ref, or the one
// $ref of an allOf (the form OpenAPI v3 uses to add a description or
// default to a reference).
func refOf(s *oaSchema) string {
	if s.Ref != "" {
		return s.Ref
	}
	if len(s.AllOf) == 1 && s.AllOf[0] != nil && s.AllOf[0].Ref != "" {
		return s.AllOf[0].Ref
	}
	return ""
}

func (c *converter) typeRef(s *oaSchema) (schema.TypeRef, error) {
	if ref := refOf(s); ref != "" {
		n, err := c.refName(ref)
		if err != nil {
			return schema.TypeRef{}, err
		}
		tr := schema.TypeRef{NamedType: &n, Nullable: s.Nullable}
		// Extensions on the referring property override the target's
		// element relationship.
		if s.MapType != "" {
			er, err := mapRelationship(s.MapType)
			if err != nil {
				return tr, err
			}
			tr.ElementRelationship = &er
		}
		return tr, nil
	}
	if s.PreserveUnknown && len(s.Properties) == 0 {
		return deduced(), nil
	}
	if s.IntOrString || s.Format == "int-or-string" || scalarUnion(s.OneOf) || scalarUnion(s.AnyOf) {
		u := schema.Untyped
		return schema.TypeRef{Inlined: schema.Atom{Scalar: &u}, Nullable: s.Nullable}, nil
	}
	switch s.Type {
	case "string":
		return scalar(schema.String, s), nil
	case "integer", "number":
		return scalar(schema.Numeric, s), nil
	case "boolean":
		return scalar(schema.Boolean, s), nil
	case "array":
		return c.list(s)
	case "object", "":
		if len(s.Properties) == 0 && (s.AdditionalProperties == nil || !s.AdditionalProperties.allowed) && s.Items == nil {
			return deduced(), nil
		}
		if s.Items != nil && s.Type == "" {
			return c.list(s)
		}
		return c.object(s)
	}
	return schema.TypeRef{}, fmt.Errorf("unknown type %q", s.Type)
}

func deduced() schema.TypeRef {
	n := deducedName
	return schema.TypeRef{NamedType: &n}
}

func scalar(k schema.Scalar, s *oaSchema) schema.TypeRef {
	return schema.TypeRef{Inlined: schema.Atom{Scalar: &k}, Nullable: s.Nullable}
}

// scalarUnion reports whether alternatives are all scalar types (the
// shape of int-or-string and quantities).
func scalarUnion(alts []*oaSchema) bool {
	if len(alts) == 0 {
		return false
	}
	for _, a := range alts {
		if a == nil {
			return false
		}
		switch a.Type {
		case "string", "integer", "number", "boolean":
		default:
			return false
		}
	}
	return true
}

func mapRelationship(mapType string) (schema.ElementRelationship, error) {
	switch mapType {
	case "atomic":
		return schema.Atomic, nil
	case "granular", "":
		return schema.Separable, nil
	}
	return "", fmt.Errorf("unknown x-kubernetes-map-type %q", mapType)
}

func (c *converter) list(s *oaSchema) (schema.TypeRef, error) {
	if s.Items == nil {
		return schema.TypeRef{}, errors.New("array without items")
	}
	elem, err := c.typeRef(s.Items)
	if err != nil {
		return schema.TypeRef{}, fmt.Errorf("items: %w", err)
	}
	l := &schema.List{ElementType: elem, ElementRelationship: schema.Atomic}
	switch s.ListType {
	case "atomic":
	case "set":
		l.ElementRelationship = schema.Associative
	case "map":
		if len(s.ListMapKeys) == 0 {
			return schema.TypeRef{}, errors.New("x-kubernetes-list-type map without x-kubernetes-list-map-keys")
		}
		l.ElementRelationship = schema.Associative
		l.Keys = append([]string(nil), s.ListMapKeys...)
	case "":
		// No list type: the strategic merge patch strategy says how the
		// list merged before server-side apply, so keep that meaning.
		if hasStrategy(s.PatchStrategy, "merge") {
			l.ElementRelationship = schema.Associative
			if s.PatchMergeKey != "" {
				l.Keys = []string{s.PatchMergeKey}
			}
		}
	default:
		return schema.TypeRef{}, fmt.Errorf("unknown x-kubernetes-list-type %q", s.ListType)
	}
	return schema.TypeRef{Inlined: schema.Atom{List: l}, Nullable: s.Nullable}, nil
}

func hasStrategy(strategies, want string) bool {
	for _, s := range strings.Split(strategies, ",") {
		if strings.TrimSpace(s) == want {
			return true
		}
	}
	return false
}

func (c *converter) object(s *oaSchema) (schema.TypeRef, error) {
	er, err := mapRelationship(s.MapType)
	if err != nil {
		return schema.TypeRef{}, err
	}
	m := &schema.Map{ElementRelationship: er}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		if p == nil {
			return schema.TypeRef{}, fmt.Errorf("property %q is null", n)
		}
		tr, err := c.typeRef(p)
		if err != nil {
			return schema.TypeRef{}, fmt.Errorf("property %q: %w", n, err)
		}
		f := schema.StructField{Name: n, Type: tr}
		if d, ok := p.Default.(string); ok {
			// Scalar defaults matter where a list map key may be left
			// out (a port's protocol); structs' {} defaults do not.
			f.Default = d
		}
		m.Fields = append(m.Fields, f)
	}
	if a := s.AdditionalProperties; a != nil && a.allowed {
		if a.schema == nil {
			m.ElementType = deduced()
		} else {
			tr, err := c.typeRef(a.schema)
			if err != nil {
				return schema.TypeRef{}, fmt.Errorf("additionalProperties: %w", err)
			}
			m.ElementType = tr
		}
	}
	return schema.TypeRef{Inlined: schema.Atom{Map: m}, Nullable: s.Nullable}, nil
}
