// Package apifacts extracts the facts file that setpoint's API generator
// (examples/internal/apigen) reads: for every Kubernetes type reachable from
// the kinds the example cluster serves, its Go shape (field names, Go types,
// struct tags) taken by reflection over k8s.io/api, its protobuf message and
// field numbers taken from the published generated.proto files, its OpenAPI
// facts (formats, defaults, enums, list and map types, patch strategies,
// required fields) taken from Kubernetes' OpenAPI v3 documents, and the
// typed constants Kubernetes declares for enum values.
//
// Only facts are written: every description and comment is dropped. The
// extraction fails when the Go tags and the .proto files disagree on a
// field number, or when a type comes from a package it does not map.
package apifacts

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
)

// Extract gathers the facts from the k8s.io modules in the module graph
// and Kubernetes' OpenAPI documents (downloaded through the module proxy).
func Extract() (*Facts, error) { return extract() }

// Encode writes facts as the committed file holds them.
func Encode(f *Facts) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Facts is the whole file.
type Facts struct {
	Source   map[string]string `json:"source"`
	Packages []*Package        `json:"packages"`
	Types    []*Type           `json:"types"`
}

// Package is one Go package of Kubernetes' API.
type Package struct {
	Key          string `json:"key"`
	GoPath       string `json:"goPath"`
	ProtoPackage string `json:"protoPackage,omitempty"`
	Group        string `json:"group,omitempty"`
	Version      string `json:"version,omitempty"`
}

// Type is one named Go type.
type Type struct {
	Pkg  string `json:"pkg"`
	Name string `json:"name"`
	// Kind is struct, or the underlying kind of a named non-struct type
	// (string, slice, map, ...), or opaque for types with hand-written codecs.
	Kind string `json:"kind"`
	// Underlying is the underlying type of a named non-struct type.
	Underlying string `json:"underlying,omitempty"`
	// Root marks the kinds served (and their lists).
	Root bool `json:"root,omitempty"`
	// GVK is the x-kubernetes-group-version-kind of the OpenAPI schema.
	GVK []map[string]string `json:"gvk,omitempty"`
	// OpenAPIName is the schema's name in Kubernetes' OpenAPI documents.
	OpenAPIName string `json:"openAPIName,omitempty"`
	// Schema holds the type-level OpenAPI facts (required, type, format,
	// x-kubernetes-* extensions), without properties and descriptions.
	Schema map[string]any `json:"schema,omitempty"`
	// ProtoMessage is the protobuf message name, if the type is a message.
	ProtoMessage string   `json:"protoMessage,omitempty"`
	ProtoFields  []*PF    `json:"protoFields,omitempty"`
	Fields       []*Field `json:"fields,omitempty"`
	Consts       []*Const `json:"consts,omitempty"`
}

// Field is one struct field.
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Embedded bool   `json:"embedded,omitempty"`
	// Tag is the Go struct tag, verbatim.
	Tag string `json:"tag"`
	// ProtoNumber is the field number in the .proto message (0: none).
	ProtoNumber int `json:"protoNumber,omitempty"`
	// ProtoType is the field's type in the .proto file.
	ProtoType  string `json:"protoType,omitempty"`
	ProtoLabel string `json:"protoLabel,omitempty"`
	// Schema is the field's OpenAPI property, without descriptions.
	Schema map[string]any `json:"schema,omitempty"`
	// Required says the OpenAPI schema lists the field as required.
	Required bool `json:"required,omitempty"`
}

// PF is a field of a .proto message.
type PF struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
	Label  string `json:"label"`
	Type   string `json:"type"`
}

// Const is a typed constant.
type Const struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// pkgs maps Go import paths to the short keys used in the facts file.
var pkgs = []*Package{
	{Key: "core/v1", GoPath: "k8s.io/api/core/v1", Group: "", Version: "v1"},
	{Key: "apps/v1", GoPath: "k8s.io/api/apps/v1", Group: "apps", Version: "v1"},
	{Key: "batch/v1", GoPath: "k8s.io/api/batch/v1", Group: "batch", Version: "v1"},
	{Key: "autoscaling/v1", GoPath: "k8s.io/api/autoscaling/v1", Group: "autoscaling", Version: "v1"},
	{Key: "discovery/v1", GoPath: "k8s.io/api/discovery/v1", Group: "discovery.k8s.io", Version: "v1"},
	{Key: "storage/v1", GoPath: "k8s.io/api/storage/v1", Group: "storage.k8s.io", Version: "v1"},
	{Key: "scheduling/v1", GoPath: "k8s.io/api/scheduling/v1", Group: "scheduling.k8s.io", Version: "v1"},
	{Key: "scheduling/v1alpha3", GoPath: "k8s.io/api/scheduling/v1alpha3", Group: "scheduling.k8s.io", Version: "v1alpha3"},
	{Key: "policy/v1", GoPath: "k8s.io/api/policy/v1", Group: "policy", Version: "v1"},
	{Key: "events/v1", GoPath: "k8s.io/api/events/v1", Group: "events.k8s.io", Version: "v1"},
	{Key: "certificates/v1", GoPath: "k8s.io/api/certificates/v1", Group: "certificates.k8s.io", Version: "v1"},
	{Key: "rbac/v1", GoPath: "k8s.io/api/rbac/v1", Group: "rbac.authorization.k8s.io", Version: "v1"},
	{Key: "coordination/v1", GoPath: "k8s.io/api/coordination/v1", Group: "coordination.k8s.io", Version: "v1"},
	{Key: "authentication/v1", GoPath: "k8s.io/api/authentication/v1", Group: "authentication.k8s.io", Version: "v1"},
	{Key: "authorization/v1", GoPath: "k8s.io/api/authorization/v1", Group: "authorization.k8s.io", Version: "v1"},
	{Key: "metrics/v1beta1", GoPath: "k8s.io/metrics/pkg/apis/metrics/v1beta1", Group: "metrics.k8s.io", Version: "v1beta1"},
	{Key: "apidiscovery/v2", GoPath: "k8s.io/api/apidiscovery/v2", Group: "apidiscovery.k8s.io", Version: "v2"},
	{Key: "meta/v1", GoPath: "k8s.io/apimachinery/pkg/apis/meta/v1", Group: "meta.k8s.io", Version: "v1"},
	{Key: "resource", GoPath: "k8s.io/apimachinery/pkg/api/resource"},
	{Key: "intstr", GoPath: "k8s.io/apimachinery/pkg/util/intstr"},
	{Key: "runtime", GoPath: "k8s.io/apimachinery/pkg/runtime"},
	{Key: "types", GoPath: "k8s.io/apimachinery/pkg/types"},
}

// opaque types have hand-written Go types and codecs on both sides; only
// their .proto message shape is recorded.
var opaque = map[string]bool{
	"resource.Quantity":    true,
	"intstr.IntOrString":   true,
	"meta/v1.Time":         true,
	"meta/v1.MicroTime":    true,
	"meta/v1.Duration":     true,
	"meta/v1.FieldsV1":     true,
	"runtime.RawExtension": true,
}

func pkgByPath(p string) *Package {
	for _, k := range pkgs {
		if k.GoPath == p {
			return k
		}
	}
	return nil
}

func pkgByKey(key string) *Package {
	for _, k := range pkgs {
		if k.Key == key {
			return k
		}
	}
	return nil
}

// walker collects named types by reflection.
type walker struct {
	types map[string]*Type
	queue []reflect.Type
}

func qname(t reflect.Type) (string, bool) {
	if t.Name() == "" || t.PkgPath() == "" {
		return "", false
	}
	p := pkgByPath(t.PkgPath())
	if p == nil {
		panic(fmt.Sprintf("type %s from unmapped package %s", t.Name(), t.PkgPath()))
	}
	return p.Key + "." + t.Name(), true
}

// expr writes t as a type expression over qualified names, queuing the
// named types it meets.
func (w *walker) expr(t reflect.Type) string {
	if q, ok := qname(t); ok {
		w.add(t)
		return q
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + w.expr(t.Elem())
	case reflect.Slice:
		return "[]" + w.expr(t.Elem())
	case reflect.Map:
		return "map[" + w.expr(t.Key()) + "]" + w.expr(t.Elem())
	case reflect.String, reflect.Bool, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Float64, reflect.Int, reflect.Uint32, reflect.Uint64:
		return t.Kind().String()
	}
	panic(fmt.Sprintf("unsupported type %s", t))
}

func (w *walker) add(t reflect.Type) {
	q, _ := qname(t)
	if _, ok := w.types[q]; ok {
		return
	}
	p := pkgByPath(t.PkgPath())
	w.types[q] = &Type{Pkg: p.Key, Name: t.Name()}
	w.queue = append(w.queue, t)
}

func (w *walker) run() error {
	for len(w.queue) > 0 {
		t := w.queue[0]
		w.queue = w.queue[1:]
		q, _ := qname(t)
		ty := w.types[q]
		if m, ok := reflect.PointerTo(t).MethodByName("OpenAPIModelName"); ok {
			out := m.Func.Call([]reflect.Value{reflect.New(t)})
			ty.OpenAPIName = out[0].String()
		} else if m, ok := t.MethodByName("OpenAPIModelName"); ok {
			out := m.Func.Call([]reflect.Value{reflect.New(t).Elem()})
			ty.OpenAPIName = out[0].String()
		}
		if opaque[q] {
			ty.Kind = "opaque"
			continue
		}
		if t.Kind() != reflect.Struct {
			ty.Kind = t.Kind().String()
			ty.Underlying = w.underlying(t)
			continue
		}
		ty.Kind = "struct"
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				return fmt.Errorf("%s.%s: unexported field", q, sf.Name)
			}
			ty.Fields = append(ty.Fields, &Field{Name: sf.Name, Type: w.expr(sf.Type), Embedded: sf.Anonymous, Tag: string(sf.Tag)})
		}
	}
	return nil
}

// underlying writes the underlying type of a named non-struct type.
func (w *walker) underlying(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "[]" + w.expr(t.Elem())
	case reflect.Map:
		return "map[" + w.expr(t.Key()) + "]" + w.expr(t.Elem())
	default:
		return t.Kind().String()
	}
}

func extract() (*Facts, error) {
	kubeDir, err := kubernetesDir()
	if err != nil {
		return nil, err
	}
	w := &walker{types: map[string]*Type{}}
	for _, t := range roots {
		w.add(t)
	}
	if err := w.run(); err != nil {
		return nil, err
	}
	for _, t := range roots {
		q, _ := qname(t)
		w.types[q].Root = true
	}
	schemas, err := loadOpenAPI(filepath.Join(kubeDir, "api", "openapi-spec", "v3"))
	if err != nil {
		return nil, err
	}
	// proto messages and constants, per package
	protos := map[string]map[string][]*PF{}
	constsByPkg := map[string]map[string][]*Const{}
	for _, p := range pkgs {
		dir, err := pkgDir(p.GoPath)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "generated.proto")); err == nil {
			name, msgs, err := parseProto(filepath.Join(dir, "generated.proto"))
			if err != nil {
				return nil, err
			}
			p.ProtoPackage = name
			protos[p.Key] = msgs
		}
		c, err := consts(dir)
		if err != nil {
			return nil, err
		}
		constsByPkg[p.Key] = c
	}
	var types []*Type
	for _, t := range w.types {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if types[i].Pkg != types[j].Pkg {
			return types[i].Pkg < types[j].Pkg
		}
		return types[i].Name < types[j].Name
	})
	for _, t := range types {
		if msgs, ok := protos[t.Pkg][t.Name]; ok {
			t.ProtoMessage = t.Name
			t.ProtoFields = msgs
		}
		t.Consts = constsByPkg[t.Pkg][t.Name]
		if err := addOpenAPI(t, schemas); err != nil {
			return nil, err
		}
		if err := matchProto(t); err != nil {
			return nil, err
		}
	}
	used := map[string]bool{}
	for _, t := range types {
		used[t.Pkg] = true
	}
	var ps []*Package
	for _, p := range pkgs {
		if used[p.Key] {
			ps = append(ps, p)
		}
	}
	return &Facts{
		Source: map[string]string{
			"k8s.io/api":          "v0.37.2 (Go types by reflection; generated.proto)",
			"k8s.io/apimachinery": "v0.37.2 (Go types by reflection; generated.proto)",
			"k8s.io/metrics":      "v0.37.2 (Go types by reflection; generated.proto)",
			"k8s.io/kubernetes":   "v1.37.2 (api/openapi-spec/v3)",
			"note":                "facts only: names, types, numbers, tags, defaults; all descriptions removed",
		},
		Packages: ps,
		Types:    types,
	}, nil
}

func kubernetesDir() (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@v1.37.2").Output()
	if err != nil {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@v1.37.2: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", err
	}
	return m.Dir, nil
}
