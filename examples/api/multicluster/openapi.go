package multicluster

import (
	"embed"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// SchemaPrefix is the prefix of the group's OpenAPI schema names, as
// Kubernetes names a custom resource's: the group's labels reversed and
// the version, so "dev.setpoint.multicluster.v1alpha1.Subscription".
const SchemaPrefix = "dev.setpoint.multicluster.v1alpha1."

//go:embed types.go apps.go
var typeSources embed.FS

// OpenAPISchemas returns the group's OpenAPI v3 schemas as a JSON object
// by schema name (SchemaPrefix + the Go type's name). They are derived
// from the Go types themselves (JSON names, types, which fields are
// optional) and their doc comments (the descriptions kubectl explain
// shows), so they cannot drift from the types. References to the shared
// Kubernetes schemas (ObjectMeta, ListMeta, Time, Quantity, LabelSelector,
// Condition) use their io.k8s.apimachinery names; embedded manifests
// (RawExtension) are objects whose unknown fields are kept.
func OpenAPISchemas() []byte { return openAPISchemas() }

var openAPISchemas = sync.OnceValue(func() []byte {
	g := &schemaGen{docs: typeDocs(), out: map[string]any{}}
	for _, t := range []reflect.Type{
		reflect.TypeFor[ClusterRegistrationRequest](), reflect.TypeFor[ManagedCluster](), reflect.TypeFor[Subscription](),
		reflect.TypeFor[Base](), reflect.TypeFor[Localization](), reflect.TypeFor[Globalization](), reflect.TypeFor[Description](),
	} {
		g.named(t)
	}
	data, err := json.Marshal(g.out)
	if err != nil {
		panic(err) // maps of strings, bools and slices always marshal
	}
	return data
})

const (
	v3Ref    = "#/components/schemas/"
	metaV1   = "io.k8s.apimachinery.pkg.apis.meta.v1."
	resource = "io.k8s.apimachinery.pkg.api.resource."
)

// shared are the types described by Kubernetes' own schemas.
var shared = map[reflect.Type]string{
	reflect.TypeFor[store.ObjectMeta]():  metaV1 + "ObjectMeta",
	reflect.TypeFor[api.ListMeta]():      metaV1 + "ListMeta",
	reflect.TypeFor[store.Time]():        metaV1 + "Time",
	reflect.TypeFor[api.Quantity]():      resource + "Quantity",
	reflect.TypeFor[api.LabelSelector](): metaV1 + "LabelSelector",
	reflect.TypeFor[api.Condition]():     metaV1 + "Condition",
}

type schemaGen struct {
	docs map[string]string // "Type" and "Type.Field" -> doc comment
	out  map[string]any
}

// named adds the schema of the package's struct type t and returns its
// reference.
func (g *schemaGen) named(t reflect.Type) map[string]any {
	name := SchemaPrefix + t.Name()
	ref := map[string]any{"$ref": v3Ref + name}
	if _, ok := g.out[name]; ok {
		return ref
	}
	props := map[string]any{}
	s := map[string]any{"type": "object", "description": g.docs[t.Name()], "properties": props}
	g.out[name] = s
	var required []any
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if f.Type == reflect.TypeFor[store.TypeMeta]() {
				props["apiVersion"] = map[string]any{"type": "string", "description": "The group and version of the object's schema, " + GroupVersion + "."}
				props["kind"] = map[string]any{"type": "string", "description": "The object's kind, " + t.Name() + "."}
				continue
			}
			if f.Anonymous && tag == "" && strings.Contains(opts, "inline") {
				walk(f.Type)
				continue
			}
			if tag == "" {
				tag = f.Name
			}
			fs := g.of(f.Type)
			if d := g.docs[t.Name()+"."+f.Name]; d != "" {
				if _, isRef := fs["$ref"]; isRef {
					fs = map[string]any{"allOf": []any{fs}}
				}
				fs["description"] = d
			}
			props[tag] = fs
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, tag)
			}
		}
	}
	walk(t)
	if len(required) > 0 {
		s["required"] = required
	}
	return ref
}

// of returns the schema of a field of type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	if n, ok := shared[t]; ok {
		return map[string]any{"$ref": v3Ref + n}
	}
	if t == reflect.TypeFor[api.RawExtension]() {
		return map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int64, reflect.Int:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		return g.named(t)
	}
	panic("multicluster: no OpenAPI schema for " + t.String()) // the group's own types are covered (tested)
}

// typeDocs reads the doc comments of the package's types and their fields
// from its embedded sources.
func typeDocs() map[string]string {
	docs := map[string]string{}
	fset := token.NewFileSet()
	entries, _ := typeSources.ReadDir(".")
	for _, e := range entries {
		src, err := typeSources.ReadFile(e.Name())
		if err != nil {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			continue
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, sp := range gd.Specs {
				ts := sp.(*ast.TypeSpec)
				text := ts.Doc.Text()
				if text == "" {
					text = gd.Doc.Text()
				}
				docs[ts.Name.Name] = clean(text)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fl := range st.Fields.List {
					for _, n := range fl.Names {
						docs[ts.Name.Name+"."+n.Name] = clean(fl.Doc.Text())
					}
				}
			}
		}
	}
	return docs
}

// clean joins a doc comment's lines into one paragraph.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
