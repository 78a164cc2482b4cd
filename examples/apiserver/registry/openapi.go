package registry

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/examples/api/coordination"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/watch"
)

// OpenAPIV2 returns a Swagger 2.0 document (definitions only) describing
// every registered kind, its list, and Status, Scale and Binding, with the
// extensions kubectl reads: x-kubernetes-group-version-kind on each
// top-level type, and x-kubernetes-patch-strategy and
// x-kubernetes-patch-merge-key on fields that merge. Served at
// /openapi/v2, it lets kubectl validate manifests on the client side and
// compute "kubectl apply" patches from the server's own schema.
func OpenAPIV2() ([]byte, error) {
	g := newOpenAPIGen("#/definitions/")
	doc := map[string]any{
		"swagger":     "2.0",
		"info":        map[string]string{"title": "setpoint example apiserver", "version": "v1"},
		"paths":       map[string]any{},
		"definitions": g.defs,
	}
	return json.Marshal(doc)
}

type openapiRoot struct {
	t   reflect.Type
	gvk [3]string // group, version, kind
}

// newOpenAPIGen builds the schemas of every served type, with
// x-kubernetes-group-version-kind on the top-level ones.
func newOpenAPIGen(refPrefix string) *openapiGen {
	g := &openapiGen{defs: map[string]map[string]any{}, refPrefix: refPrefix}
	roots := []openapiRoot{
		{reflect.TypeFor[watch.Status](), [3]string{"", "v1", "Status"}},
		{reflect.TypeFor[api.Binding](), [3]string{"", "v1", "Binding"}},
		{reflect.TypeFor[autoscaling.Scale](), [3]string{"autoscaling", "v1", "Scale"}},
	}
	for _, d := range Kinds() {
		r := d.Resource()
		group, version := GroupVersion(r)
		t := reflect.TypeOf(d.NewObject()).Elem()
		roots = append(roots, openapiRoot{t, [3]string{group, version, r.Kind}},
			openapiRoot{listTypeOf(t), [3]string{group, version, d.ListKind()}})
	}
	for _, r := range roots {
		name := g.ref(r.t)
		g.defs[name]["x-kubernetes-group-version-kind"] = []map[string]string{{"group": r.gvk[0], "version": r.gvk[1], "kind": r.gvk[2]}}
	}
	return g
}

// OpenAPIV3Paths lists the group-version documents OpenAPIV3 serves:
// "api/v1", "apis/apps/v1", "apis/autoscaling/v1",
// "apis/coordination.k8s.io/v1".
func OpenAPIV3Paths() []string {
	seen := map[string]bool{"apis/autoscaling/v1": true}
	for _, d := range Kinds() {
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
func OpenAPIV3Discovery() ([]byte, error) {
	paths := map[string]any{}
	for _, p := range OpenAPIV3Paths() {
		doc, _, err := OpenAPIV3(p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(doc)
		paths[p] = map[string]string{"serverRelativeURL": "/openapi/v3/" + p + "?hash=" + strings.ToUpper(hex.EncodeToString(sum[:]))}
	}
	return json.Marshal(map[string]any{"paths": paths})
}

// OpenAPIV3 returns the OpenAPI 3.0 document of one group-version path
// ("api/v1", "apis/apps/v1", ...), or false if there is none. Its
// components hold every schema (with the same extensions as OpenAPIV2);
// its paths hold one PATCH operation per resource, tagged with the
// resource's x-kubernetes-group-version-kind and a fieldValidation query
// parameter: that tells kubectl the server validates fields itself, so
// kubectl sends fieldValidation=Strict instead of downloading /openapi/v2
// for client-side validation.
func OpenAPIV3(path string) ([]byte, bool, error) {
	found := false
	for _, p := range OpenAPIV3Paths() {
		found = found || p == path
	}
	if !found {
		return nil, false, nil
	}
	g := newOpenAPIGen("#/components/schemas/")
	paths := map[string]any{}
	for _, d := range Kinds() {
		r := d.Resource()
		if gvPath(r.APIVersion) != path {
			continue
		}
		group, version := GroupVersion(r)
		url := "/" + path + "/" + r.Name + "/{name}"
		if r.Namespaced {
			url = "/" + path + "/namespaces/{namespace}/" + r.Name + "/{name}"
		}
		paths[url] = map[string]any{
			"patch": map[string]any{
				"operationId":                     "patch" + r.Kind,
				"x-kubernetes-group-version-kind": map[string]string{"group": group, "version": version, "kind": r.Kind},
				"parameters": []any{
					map[string]any{"name": "fieldValidation", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
					map[string]any{"name": "dryRun", "in": "query", "schema": map[string]any{"type": "string", "uniqueItems": true}},
				},
				"responses": map[string]any{"200": map[string]any{"description": "OK"}},
			},
		}
	}
	b, err := json.Marshal(map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]string{"title": "setpoint example apiserver", "version": "v1"},
		"paths":      paths,
		"components": map[string]any{"schemas": g.defs},
	})
	return b, true, err
}

// listTypeOf returns List[E] for a kind's *E.
func listTypeOf(t reflect.Type) reflect.Type {
	switch t {
	case reflect.TypeFor[api.Namespace]():
		return reflect.TypeFor[api.NamespaceList]()
	case reflect.TypeFor[api.Node]():
		return reflect.TypeFor[api.NodeList]()
	case reflect.TypeFor[api.Pod]():
		return reflect.TypeFor[api.PodList]()
	case reflect.TypeFor[api.Service]():
		return reflect.TypeFor[api.ServiceList]()
	case reflect.TypeFor[api.Endpoints]():
		return reflect.TypeFor[api.EndpointsList]()
	case reflect.TypeFor[api.Event]():
		return reflect.TypeFor[api.EventList]()
	case reflect.TypeFor[election.Lease]():
		return reflect.TypeFor[coordination.LeaseList]()
	case reflect.TypeFor[api.ResourceQuota]():
		return reflect.TypeFor[api.ResourceQuotaList]()
	case reflect.TypeFor[apps.ReplicaSet]():
		return reflect.TypeFor[apps.ReplicaSetList]()
	case reflect.TypeFor[apps.Deployment]():
		return reflect.TypeFor[apps.DeploymentList]()
	case reflect.TypeFor[apps.StatefulSet]():
		return reflect.TypeFor[apps.StatefulSetList]()
	case reflect.TypeFor[apps.DaemonSet]():
		return reflect.TypeFor[apps.DaemonSetList]()
	}
	panic("api: no list type for " + t.String())
}

type openapiGen struct {
	defs      map[string]map[string]any
	refPrefix string // "#/definitions/" (v2) or "#/components/schemas/" (v3)
}

// defName names a struct type's definition: "io.setpoint.api.Pod",
// "io.setpoint.store.ObjectMeta", "io.setpoint.api.PodList".
func defName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // List[...Pod]
		elem := name[i+1 : len(name)-1]
		elem = elem[strings.LastIndexByte(elem, '.')+1:]
		name = elem + name[:i]
	}
	pkg := t.PkgPath()
	return "io.setpoint." + pkg[strings.LastIndexByte(pkg, '/')+1:] + "." + name
}

var (
	timeType      = reflect.TypeFor[store.Time]()
	microTimeType = reflect.TypeFor[store.MicroTime]()
	intOrStrType  = reflect.TypeFor[api.IntOrString]()
	quantityType  = reflect.TypeFor[api.Quantity]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// ref adds t's definition (if new) and returns its name.
func (g *openapiGen) ref(t reflect.Type) string {
	name := defName(t)
	if _, ok := g.defs[name]; ok {
		return name
	}
	def := map[string]any{"type": "object"}
	g.defs[name] = def // before recursing, for recursive types
	props := map[string]any{}
	g.addProps(props, t, patch.SchemaOf(t))
	def["properties"] = props
	return name
}

func (g *openapiGen) addProps(props map[string]any, t reflect.Type, ps *patch.Schema) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" || name == "" && strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.addProps(props, ft, ps)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		if pf := ps.Field(name); pf != nil {
			var strategy []string
			if pf.Merge {
				strategy = append(strategy, "merge")
			}
			if pf.RetainKeys {
				strategy = append(strategy, "retainKeys")
			}
			if len(strategy) > 0 {
				s["x-kubernetes-patch-strategy"] = strings.Join(strategy, ",")
			}
			if pf.MergeKey != "" {
				s["x-kubernetes-patch-merge-key"] = pf.MergeKey
			}
		}
		props[name] = s
	}
}

// schema returns a fresh schema object for a field of type t.
func (g *openapiGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType, microTimeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case intOrStrType:
		return map[string]any{"type": "string", "format": "int-or-string"}
	case quantityType:
		return map[string]any{"type": "string"}
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) ||
		t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint16, reflect.Uint8:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Int, reflect.Int64, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number", "format": "double"}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Struct:
		return map[string]any{"$ref": g.refPrefix + g.ref(t)}
	}
	return map[string]any{"type": "object"}
}

// sortedDefinitionNames lists the document's definitions (for tests).
func sortedDefinitionNames(doc map[string]any) []string {
	defs, _ := doc["definitions"].(map[string]any)
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
