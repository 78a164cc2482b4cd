package apigen

import (
	"encoding/json"
	"fmt"
	"sort"
)

// The OpenAPI document the generator writes next to package api: the
// components.schemas of every generated type and of the library types they
// use, keyed by Kubernetes' schema names (io.k8s.api.core.v1.Pod), with
// Kubernetes' formats, defaults, enums, required fields and x-kubernetes-*
// extensions from the facts, and our descriptions. The apiserver builds
// its OpenAPI v2 and v3 documents and its server-side-apply schemas from it.

const refPrefix = "#/components/schemas/"

// typeMetaProps are the properties an inlined TypeMeta adds.
var typeMetaProps = map[string]any{
	"apiVersion": map[string]any{"type": "string", "description": "The group and version of the object's schema, such as apps/v1."},
	"kind":       map[string]any{"type": "string", "description": "The object's kind, such as Deployment."},
}

// cloneJSON deep-copies a decoded JSON value.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}

// deriveSchema makes a schema from a Go type, for the types Kubernetes
// publishes no OpenAPI for (metrics, aggregated discovery).
func (m *Model) deriveSchema(e *TypeExpr) (map[string]any, error) {
	switch e.Kind {
	case "ptr":
		return m.deriveSchema(e.Elem)
	case "slice":
		if e.Elem.Kind == "basic" && e.Elem.Name == "uint8" {
			return map[string]any{"type": "string", "format": "byte"}, nil
		}
		items, err := m.deriveSchema(e.Elem)
		return map[string]any{"type": "array", "items": items}, err
	case "map":
		v, err := m.deriveSchema(e.Elem)
		return map[string]any{"type": "object", "additionalProperties": v}, err
	case "basic":
		switch e.Name {
		case "string":
			return map[string]any{"type": "string"}, nil
		case "bool":
			return map[string]any{"type": "boolean"}, nil
		case "int32", "int64":
			return map[string]any{"type": "integer", "format": e.Name}, nil
		}
	case "named":
		t := m.named(e)
		if t.F.Kind == "struct" || t.F.Kind == "opaque" {
			if t.F.OpenAPIName == "" {
				return nil, fmt.Errorf("%s has no OpenAPI name", t.F.QName())
			}
			return map[string]any{"$ref": refPrefix + t.F.OpenAPIName}, nil
		}
		u := &TypeExpr{Kind: "basic", Name: t.F.Kind}
		if t.F.Kind != "string" {
			var err error
			if u, err = ParseTypeExpr(t.F.Underlying); err != nil {
				return nil, err
			}
			if err := m.resolve(u); err != nil {
				return nil, err
			}
		}
		return m.deriveSchema(u)
	}
	return nil, fmt.Errorf("no schema for %s %s", e.Kind, e.Name)
}

// addProperties adds t's fields (and those of structs it inlines) to props.
func (m *Model) addProperties(t *Type, props map[string]any, required *[]string) error {
	for _, fl := range t.Fields {
		if fl.Dropped {
			continue
		}
		if fl.JSON == "" {
			if fl.GoName == "TypeMeta" {
				for k, v := range typeMetaProps {
					props[k] = cloneJSON(v)
				}
				continue
			}
			if err := m.addProperties(m.named(fl.Type), props, required); err != nil {
				return err
			}
			continue
		}
		var s map[string]any
		if fl.F.Schema != nil {
			s = cloneJSON(fl.F.Schema).(map[string]any)
		} else {
			var err error
			if s, err = m.deriveSchema(fl.Type); err != nil {
				return fmt.Errorf("apigen: %s.%s: %w", t.F.QName(), fl.GoName, err)
			}
		}
		s["description"] = Capitalize(fl.Desc)
		props[fl.JSON] = s
		if fl.F.Required {
			*required = append(*required, fl.JSON)
		}
	}
	return nil
}

// openAPI returns the OpenAPI document of every type with a schema name.
func (m *Model) openAPI() ([]byte, error) {
	var names []string
	for q := range m.types {
		names = append(names, q)
	}
	sort.Strings(names)
	schemas := map[string]any{}
	for _, q := range names {
		t := m.types[q]
		if t.F.OpenAPIName == "" || t.GoName == "TypeMeta" || (t.F.Kind != "struct" && t.F.Kind != "opaque") {
			continue
		}
		s := map[string]any{}
		for k, v := range t.F.Schema {
			s[k] = cloneJSON(v)
		}
		s["description"] = Capitalize(t.Desc)
		if len(t.F.GVK) > 0 {
			s["x-kubernetes-group-version-kind"] = t.F.GVK
		} else if gvk := m.derivedGVK(t); gvk != nil {
			s["x-kubernetes-group-version-kind"] = gvk
		}
		if t.F.Kind == "opaque" {
			if _, ok := s["type"]; !ok {
				if _, ok := s["oneOf"]; !ok {
					s["type"] = "string" // Duration
				}
			}
			schemas[t.F.OpenAPIName] = s
			continue
		}
		props := map[string]any{}
		var required []string
		if err := m.addProperties(t, props, &required); err != nil {
			return nil, err
		}
		s["type"] = "object"
		s["properties"] = props
		delete(s, "required")
		if len(required) > 0 {
			s["required"] = required
		}
		schemas[t.F.OpenAPIName] = s
	}
	b, err := json.MarshalIndent(map[string]any{"components": map[string]any{"schemas": schemas}}, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// emitOpenAPIAccessor writes the Go file that embeds the document.
func (f *file) emitOpenAPIAccessor(name string) {
	f.imports["embed"] = "_"
	f.p("//go:embed %s", name)
	f.p("var openAPISchemas []byte")
	f.p("")
	f.comment("OpenAPISchemas returns the OpenAPI v3 schemas (under components.schemas) of every generated type and of the library types they use, keyed by Kubernetes' schema names such as io.k8s.api.core.v1.Pod, with Kubernetes' formats, defaults, enums, required fields and x-kubernetes extensions, and our descriptions. The caller must not modify the result.")
	f.p("func OpenAPISchemas() []byte { return openAPISchemas }")
}

// derivedGVK names the group, version and kind of a served kind that
// Kubernetes publishes no OpenAPI for (metrics, aggregated discovery).
func (m *Model) derivedGVK(t *Type) []map[string]string {
	if !t.F.Root || t.Ext != nil || len(t.Fields) == 0 || t.Fields[0].GoName != "TypeMeta" {
		return nil
	}
	fp := m.factPkgs[t.F.Pkg]
	if fp == nil {
		return nil
	}
	return []map[string]string{{"group": fp.Group, "version": fp.Version, "kind": t.GoName}}
}
