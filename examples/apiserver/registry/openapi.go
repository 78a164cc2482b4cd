package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// The OpenAPI documents, built from the schemas the generator writes with
// the types (api.OpenAPISchemas: Kubernetes' schema names, formats,
// defaults, enums, required fields, x-kubernetes-* extensions, and our
// descriptions), so that "kubectl explain" describes every field and
// kubectl's validation and apply know every field and how lists merge.

const (
	v3Ref = "#/components/schemas/"
	v2Ref = "#/definitions/"
	// statusSchema is the Status every error carries, which the generated
	// schemas (object kinds only) leave out.
	statusSchema = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
)

// builtinSchemas returns the generated schemas plus Status, keyed by name;
// the result is shared and must not be modified.
var builtinSchemas = sync.OnceValues(func() (map[string]any, error) {
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPISchemas(), &doc); err != nil {
		return nil, fmt.Errorf("registry: the generated OpenAPI schemas: %w", err)
	}
	s := doc.Components.Schemas
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	s[statusSchema] = map[string]any{
		"type":        "object",
		"description": "The result of a request that returns no object, and the body of every error.",
		"properties": map[string]any{
			"apiVersion": str("The group and version of the object's schema, v1."),
			"kind":       str("The object's kind, Status."),
			"metadata":   map[string]any{"$ref": v3Ref + "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "description": "Standard list metadata."},
			"status":     str("Success or Failure."),
			"message":    str("A human-readable description of the result."),
			"reason":     str("A machine-readable reason, such as NotFound or Invalid."),
			"code":       map[string]any{"type": "integer", "format": "int32", "description": "The HTTP status code."},
			"details": map[string]any{"type": "object", "description": "The object the status is about and, for invalid requests, the fields at fault.",
				"x-kubernetes-preserve-unknown-fields": true},
		},
		"x-kubernetes-group-version-kind": []any{map[string]any{"group": "", "version": "v1", "kind": "Status"}},
	}
	return s, nil
})

// OpenAPIV2 returns a Swagger 2.0 document whose definitions are every
// schema (with $refs to #/definitions/, and OpenAPI 3 constructs Swagger
// 2.0 lacks written the way Kubernetes writes them there). Served at
// /openapi/v2, it lets kubectl validate manifests on the client side and
// compute "kubectl apply" patches from the server's own schema.
func OpenAPIV2() ([]byte, error) { return Default().OpenAPIV2() }

// OpenAPIV2 is the registry's Swagger 2.0 document (see the package-level
// OpenAPIV2), with the schemas of its extra kinds.
func (r *Registry) OpenAPIV2() ([]byte, error) { return r.v2() }

func (r *Registry) buildV2() ([]byte, error) {
	all, err := r.schemas()
	if err != nil {
		return nil, err
	}
	defs := map[string]any{}
	for name, s := range all {
		defs[name] = toV2(s)
	}
	return json.Marshal(map[string]any{
		"swagger":     "2.0",
		"info":        map[string]string{"title": "setpoint example apiserver", "version": "v1.32.0-setpoint"},
		"paths":       map[string]any{},
		"definitions": defs,
	})
}

// toV2 rewrites a schema for Swagger 2.0: references into #/definitions/,
// allOf of one reference into the reference itself (Swagger 2.0 allows
// nothing beside a $ref), and oneOf (int-or-string, quantities) into a
// string with the schema's format.
func toV2(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if all, ok := x["allOf"].([]any); ok && len(all) == 1 {
			if ref, ok := all[0].(map[string]any)["$ref"]; ok {
				out := map[string]any{"$ref": toV2(ref)}
				if d, ok := x["description"]; ok {
					out["description"] = d
				}
				return out
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "oneOf" {
				out["type"] = "string"
				continue
			}
			out[k] = toV2(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toV2(e)
		}
		return out
	case string:
		if name, ok := strings.CutPrefix(x, v3Ref); ok {
			return v2Ref + name
		}
	}
	return v
}

// OpenAPIV3Paths lists the group-version documents OpenAPIV3 serves:
// "api/v1", "apis/apps/v1", ..., one per served group-version.
func OpenAPIV3Paths() []string { return Default().OpenAPIV3Paths() }

// OpenAPIV3Paths lists the registry's group-version documents.
func (r *Registry) OpenAPIV3Paths() []string {
	seen := map[string]bool{}
	for _, d := range r.kinds {
		seen[gvPath(d.Resource().APIVersion)] = true
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func gvPath(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return "api/" + apiVersion
	}
	return "apis/" + apiVersion
}

// OpenAPIV3Discovery returns the /openapi/v3 index: for each path of
// OpenAPIV3Paths, {"serverRelativeURL": "/openapi/v3/<path>?hash=<sha>"}.
func OpenAPIV3Discovery() ([]byte, error) { return Default().OpenAPIV3Discovery() }

// OpenAPIV3Discovery is the registry's /openapi/v3 index.
func (r *Registry) OpenAPIV3Discovery() ([]byte, error) {
	paths := map[string]any{}
	for _, p := range r.OpenAPIV3Paths() {
		doc, _, err := r.OpenAPIV3(p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(doc)
		paths[p] = map[string]string{"serverRelativeURL": "/openapi/v3/" + p + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:]))}
	}
	return json.Marshal(map[string]any{"paths": paths})
}

// schemaName returns the schema name of the kind of group, version, kind.
func schemaName(group, version, kind string) string {
	short, _, _ := strings.Cut(group, ".")
	if short == "" {
		short = "core"
	}
	return "io.k8s.api." + short + "." + version + "." + kind
}

// OpenAPIV3 returns the OpenAPI 3.0 document of one group-version path
// ("api/v1", "apis/apps/v1", ...), or false if there is none. Its
// components hold the schemas of the group-version's kinds and lists and
// every schema they refer to; its paths one PATCH operation per resource,
// tagged with the resource's x-kubernetes-group-version-kind and a
// fieldValidation query parameter: that tells kubectl the server
// validates fields itself, so kubectl sends fieldValidation=Strict instead
// of downloading /openapi/v2 for client-side validation.
func OpenAPIV3(path string) ([]byte, bool, error) { return Default().OpenAPIV3(path) }

// OpenAPIV3 is the registry's document of one group-version path.
func (r *Registry) OpenAPIV3(path string) ([]byte, bool, error) {
	found := false
	for _, p := range r.OpenAPIV3Paths() {
		found = found || p == path
	}
	if !found {
		return nil, false, nil
	}
	all, err := r.schemas()
	if err != nil {
		return nil, false, err
	}
	roots := []string{statusSchema, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}
	paths := map[string]any{}
	for _, d := range r.kinds {
		r := d.Resource()
		if gvPath(r.APIVersion) != path {
			continue
		}
		group, version := GroupVersion(r)
		roots = append(roots, d.OpenAPIName(), listSchemaName(d))
		for _, sub := range d.Subresources() {
			switch sub {
			case "scale":
				roots = append(roots, schemaName("autoscaling", "v1", "Scale"))
			case "binding":
				roots = append(roots, schemaName("", "v1", "Binding"))
			case "eviction":
				roots = append(roots, schemaName("policy", "v1", "Eviction"))
			}
		}
		url := "/" + path + "/" + r.Name + "/{name}"
		if r.Namespaced {
			url = "/" + path + "/namespaces/{namespace}/" + r.Name + "/{name}"
		}
		paths[url] = map[string]any{
			"patch": map[string]any{
				"operationId":                     "patch" + strings.ReplaceAll(group, ".", "") + r.Kind,
				"x-kubernetes-group-version-kind": map[string]string{"group": group, "version": version, "kind": r.Kind},
				"parameters": []any{
					map[string]any{"name": "fieldValidation", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
					map[string]any{"name": "dryRun", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
				},
				"responses": map[string]any{"200": map[string]any{"description": "OK"}},
			},
		}
	}
	components, err := closure(all, roots)
	if err != nil {
		return nil, false, fmt.Errorf("registry: OpenAPI %s: %w", path, err)
	}
	b, err := json.Marshal(map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]string{"title": "setpoint example apiserver", "version": "v1.32.0-setpoint"},
		"paths":      paths,
		"components": map[string]any{"schemas": components},
	})
	return b, true, err
}

// closure returns the schemas of all named by roots and every schema
// they refer to, transitively.
func closure(all map[string]any, roots []string) (map[string]any, error) {
	out := map[string]any{}
	for len(roots) > 0 {
		name := roots[0]
		roots = roots[1:]
		if _, done := out[name]; done {
			continue
		}
		s, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("no schema %s", name)
		}
		out[name] = s
		roots = append(roots, refsOf(s)...)
	}
	return out, nil
}

// refsOf lists the schema names a schema refers to.
func refsOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				out = append(out, strings.TrimPrefix(s, v3Ref))
				continue
			}
			out = append(out, refsOf(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, refsOf(e)...)
		}
	}
	return out
}
