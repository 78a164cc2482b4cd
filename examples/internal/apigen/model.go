package apigen

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Config says where the generated packages go and how Kubernetes types map
// onto setpoint's own.
type Config struct {
	// ImportPath is the Go import path of the output root; package api is
	// ImportPath+"/api" and group g is ImportPath+"/api/g".
	ImportPath string
	// LibraryMicroTime maps meta/v1 MicroTime to store.MicroTime instead of
	// the MicroTime of package api.
	LibraryMicroTime bool
	// LibraryLease maps coordination/v1 Lease and LeaseSpec to
	// election.Lease and election.LeaseSpec instead of generating them.
	LibraryLease bool
}

const (
	storePath    = "github.com/setpoint-dev/setpoint/store"
	electionPath = "github.com/setpoint-dev/setpoint/election"
	pbPath       = "github.com/setpoint-dev/setpoint/examples/internal/pb"
)

// groupPackages maps a Kubernetes package key to the name of the package
// that holds its types; "api" is the core group and the meta-level types.
var groupPackages = map[string]string{
	"core/v1": "api", "meta/v1": "api", "resource": "api", "intstr": "api", "runtime": "api",
	"apps/v1": "apps", "batch/v1": "batch", "autoscaling/v1": "autoscaling", "discovery/v1": "discovery",
	"storage/v1": "storage", "scheduling/v1": "scheduling", "scheduling/v1alpha3": "scheduling",
	"policy/v1": "policy", "events/v1": "events", "certificates/v1": "certificates", "rbac/v1": "rbac",
	"coordination/v1": "coordination", "authentication/v1": "authentication",
	"authorization/v1": "authorization", "metrics/v1beta1": "metrics", "apidiscovery/v2": "apidiscovery",
}

// Codec kinds of types that are not generated.
const (
	codecNone        = ""            // no protobuf form (TypeMeta)
	codecStruct      = "struct"      // a library struct: codec functions in api/internal/metapb
	codecTime        = "time"        // Timestamp, whole seconds
	codecMicroTime   = "microtime"   // Timestamp, microseconds
	codecDuration    = "duration"    // {1: int64 nanoseconds}
	codecQuantity    = "quantity"    // {1: string}, via String and ParseQuantity
	codecIntOrString = "intorstring" // {1: type, 2: intVal, 3: strVal}
	codecRaw         = "raw"         // {1: bytes} from the Raw field
	codecString      = "string"      // a library's named string type: a string field
)

// external is a Kubernetes type that maps onto a Go type we do not generate.
type external struct {
	importPath string // "" for package api itself
	name       string
	codec      string
	drop       []string // Kubernetes fields the Go type leaves out
}

func (c *Config) externals() map[string]*external {
	api := "" // the api package of the output tree
	m := map[string]*external{
		"meta/v1.TypeMeta":           {importPath: storePath, name: "TypeMeta", codec: codecNone},
		"meta/v1.ObjectMeta":         {importPath: storePath, name: "ObjectMeta", codec: codecStruct, drop: []string{"SelfLink"}},
		"meta/v1.OwnerReference":     {importPath: storePath, name: "OwnerReference", codec: codecStruct},
		"meta/v1.ManagedFieldsEntry": {importPath: storePath, name: "ManagedFieldsEntry", codec: codecStruct},
		"meta/v1.FieldsV1":           {importPath: storePath, name: "FieldsV1", codec: codecRaw},
		"meta/v1.Time":               {importPath: storePath, name: "Time", codec: codecTime},
		"meta/v1.MicroTime":          {importPath: api, name: "MicroTime", codec: codecMicroTime},
		"meta/v1.Duration":           {importPath: api, name: "Duration", codec: codecDuration},
		"resource.Quantity":          {importPath: api, name: "Quantity", codec: codecQuantity},
		"intstr.IntOrString":         {importPath: api, name: "IntOrString", codec: codecIntOrString},
		"runtime.RawExtension":       {importPath: api, name: "RawExtension", codec: codecRaw},
	}
	if c.LibraryMicroTime {
		m["meta/v1.MicroTime"] = &external{importPath: storePath, name: "MicroTime", codec: codecMicroTime}
	}
	if c.LibraryLease {
		m["coordination/v1.Lease"] = &external{importPath: electionPath, name: "Lease", codec: codecStruct}
		m["coordination/v1.LeaseSpec"] = &external{importPath: electionPath, name: "LeaseSpec", codec: codecStruct}
		m["coordination/v1.CoordinatedLeaseStrategy"] = &external{importPath: electionPath, name: "CoordinatedLeaseStrategy", codec: codecString}
	}
	return m
}

// aliases map a Kubernetes type onto another one with the same name, shape
// and values that lands in the same Go package.
var aliases = map[string]string{
	"meta/v1.ConditionStatus": "core/v1.ConditionStatus",
}

// basicAliases map named Kubernetes types onto Go basic types.
var basicAliases = map[string]string{
	"types.UID": "string",
}

// Package is one output Go package.
type Package struct {
	Name       string // api, apps, ...
	Dir        string // relative to the output root: api, api/apps, ...
	ImportPath string
	Types      []*Type
}

// Type is one named Kubernetes type as it maps onto Go.
type Type struct {
	F      *FactType
	Pkg    *Package  // the generated package; nil for external types
	Ext    *external // non-nil for external types
	GoName string
	Fields []*Field
	// Message says the type is a protobuf message with generated methods
	// (or, for a library struct, generated codec functions).
	Message bool
	Desc    string
}

// Generated says the type's Go declaration is generated.
func (t *Type) Generated() bool { return t.Ext == nil }

// Field is one field of a struct type.
type Field struct {
	F      *FactField
	GoName string
	Type   *TypeExpr
	JSON   string // JSON name; "" for inline
	Number int    // protobuf field number; 0: not in protobuf
	Desc   string
	// Dropped marks a Kubernetes field the Go type leaves out (selfLink):
	// encoders still write its zero value where Kubernetes always does, so
	// that the bytes stay the same; decoders skip it.
	Dropped bool
}

// Label is the name used for the field in descriptions and errors.
func (f *Field) Label() string {
	if f.JSON != "" {
		return f.JSON
	}
	return f.GoName
}

// Model is every type to generate, resolved.
type Model struct {
	cfg      Config
	Packages []*Package
	types    map[string]*Type // by qualified Kubernetes name
	ext      map[string]*external
	factPkgs map[string]*FactPackage
}

// NewModel resolves the facts into Go packages and types.
func NewModel(f *Facts, cfg Config) (*Model, error) {
	if cfg.ImportPath == "" {
		return nil, fmt.Errorf("apigen: Config.ImportPath is empty")
	}
	m := &Model{cfg: cfg, types: map[string]*Type{}, ext: cfg.externals(), factPkgs: map[string]*FactPackage{}}
	for _, p := range f.Packages {
		m.factPkgs[p.Key] = p
	}
	pkgs := map[string]*Package{}
	for _, ft := range f.Types {
		q := ft.QName()
		if _, ok := aliases[q]; ok {
			continue
		}
		if _, ok := basicAliases[q]; ok {
			continue
		}
		t := &Type{F: ft, GoName: ft.Name}
		if e, ok := m.ext[q]; ok {
			t.Ext = e
			t.Message = e.codec == codecStruct
		} else {
			name, ok := groupPackages[ft.Pkg]
			if !ok {
				return nil, fmt.Errorf("apigen: type %s: package %s has no Go package", q, ft.Pkg)
			}
			p := pkgs[name]
			if p == nil {
				dir := "api"
				if name != "api" {
					dir = "api/" + name
				}
				p = &Package{Name: name, Dir: dir, ImportPath: path.Join(cfg.ImportPath, dir)}
				pkgs[name] = p
			}
			t.Pkg = p
			t.Message = ft.ProtoMessage != "" && (ft.Kind == "struct" || ft.Kind == "slice")
		}
		m.types[q] = t
	}
	for _, t := range m.types {
		if t.Ext != nil && t.Ext.codec != codecStruct {
			continue
		}
		drop := map[string]bool{}
		if t.Ext != nil {
			for _, d := range t.Ext.drop {
				drop[d] = true
			}
		}
		for _, ff := range t.F.Fields {
			if drop[ff.Name] {
				if ff.Type != "string" {
					return nil, fmt.Errorf("apigen: %s.%s: only string fields can be dropped", t.F.QName(), ff.Name)
				}
				pt, _, err := parseProtoTag(ff.Tag)
				if err != nil {
					return nil, err
				}
				t.Fields = append(t.Fields, &Field{F: ff, GoName: ff.Name, Type: &TypeExpr{Kind: "basic", Name: "string"}, JSON: ff.JSONName(), Number: pt.number, Dropped: true})
				continue
			}
			te, err := ParseTypeExpr(ff.Type)
			if err != nil {
				return nil, fmt.Errorf("apigen: %s.%s: %w", t.F.QName(), ff.Name, err)
			}
			if err := m.resolve(te); err != nil {
				return nil, fmt.Errorf("apigen: %s.%s: %w", t.F.QName(), ff.Name, err)
			}
			if t.Ext != nil {
				m.plainStrings(te)
			}
			pt, hasProto, err := parseProtoTag(ff.Tag)
			if err != nil {
				return nil, fmt.Errorf("apigen: %s.%s: %w", t.F.QName(), ff.Name, err)
			}
			fld := &Field{F: ff, GoName: ff.Name, Type: te, JSON: ff.JSONName()}
			if hasProto {
				if ff.ProtoNumber != pt.number {
					return nil, fmt.Errorf("apigen: %s.%s: tag number %d but .proto number %d", t.F.QName(), ff.Name, pt.number, ff.ProtoNumber)
				}
				fld.Number = pt.number
			}
			t.Fields = append(t.Fields, fld)
		}
	}
	// every package's types, sorted by name
	for _, t := range m.types {
		if t.Pkg != nil {
			t.Pkg.Types = append(t.Pkg.Types, t)
		}
	}
	for _, p := range pkgs {
		sort.Slice(p.Types, func(i, j int) bool { return p.Types[i].GoName < p.Types[j].GoName })
		for i := 1; i < len(p.Types); i++ {
			if p.Types[i].GoName == p.Types[i-1].GoName {
				return nil, fmt.Errorf("apigen: package %s: two types named %s (%s and %s)", p.Name, p.Types[i].GoName, p.Types[i-1].F.QName(), p.Types[i].F.QName())
			}
		}
		m.Packages = append(m.Packages, p)
	}
	sort.Slice(m.Packages, func(i, j int) bool { return m.Packages[i].Dir < m.Packages[j].Dir })
	return m, nil
}

// resolve rewrites aliased names in e and checks that every name is known.
func (m *Model) resolve(e *TypeExpr) error {
	switch e.Kind {
	case "ptr", "slice":
		return m.resolve(e.Elem)
	case "map":
		if err := m.resolve(e.Key); err != nil {
			return err
		}
		return m.resolve(e.Elem)
	case "named":
		if a, ok := aliases[e.Name]; ok {
			e.Name = a
		}
		if b, ok := basicAliases[e.Name]; ok {
			e.Kind, e.Name = "basic", b
			return nil
		}
		if _, ok := m.types[e.Name]; !ok {
			return fmt.Errorf("unknown type %s", e.Name)
		}
	}
	return nil
}

// plainStrings rewrites named string types in e to string: the library's
// structs use plain strings (store.ObjectMeta.UID, ManagedFieldsEntry's
// Operation).
func (m *Model) plainStrings(e *TypeExpr) {
	switch e.Kind {
	case "ptr", "slice":
		m.plainStrings(e.Elem)
	case "map":
		m.plainStrings(e.Key)
		m.plainStrings(e.Elem)
	case "named":
		if t := m.types[e.Name]; t.Ext == nil && t.F.Kind == "string" {
			e.Kind, e.Name = "basic", "string"
		}
	}
}

// apiPackage returns package api, if anything is generated into it.
func (m *Model) apiPackage() *Package {
	for _, p := range m.Packages {
		if p.Name == "api" {
			return p
		}
	}
	return nil
}

// Type returns the type of a qualified Kubernetes name.
func (m *Model) Type(q string) *Type { return m.types[q] }

// named returns the type a named expression refers to.
func (m *Model) named(e *TypeExpr) *Type { return m.types[e.Name] }

// stringKind says e is a string or a named string type.
func (m *Model) stringKind(e *TypeExpr) bool {
	if e.Kind == "basic" {
		return e.Name == "string"
	}
	if e.Kind == "named" {
		t := m.named(e)
		return t.Ext == nil && t.F.Kind == "string"
	}
	return false
}

// pkgOf is the package name that holds a type's Go declaration, for
// descriptions: api for the meta types, else the group.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
