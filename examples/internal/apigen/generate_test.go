package apigen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	factsFile = "facts/schema.json"
	descFile  = "descriptions.txt"
	// outRoot is the output root: package api is outRoot/api
	outRoot = "../.."
	outPath = "github.com/setpoint-dev/setpoint/examples"
)

// treeConfig is the configuration examples/api is generated with.
var treeConfig = Config{ImportPath: outPath, LibraryMicroTime: true, LibraryLease: true}

func loadInputs(t *testing.T) (*Facts, Descriptions) {
	t.Helper()
	f, err := LoadFacts(factsFile)
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadDescriptions(descFile)
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

// TestGeneratedIsCurrent regenerates the API tree in memory and fails
// when a committed file differs, is missing, or is left over.
func TestGeneratedIsCurrent(t *testing.T) {
	f, d := loadInputs(t)
	files, err := Generate(f, d, treeConfig)
	if err != nil {
		t.Fatal(err)
	}
	stale := func(why string) {
		t.Errorf("%s: run go generate ./examples/api", why)
	}
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(outRoot, rel))
		if err != nil {
			stale(err.Error())
			continue
		}
		if string(got) != string(want) {
			stale(rel + " is stale")
		}
	}
	err = filepath.WalkDir(filepath.Join(outRoot, "api"), func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !generatedName(de.Name()) {
			return err
		}
		rel, _ := filepath.Rel(outRoot, p)
		if _, ok := files[rel]; !ok {
			stale(rel + " is no longer generated")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDeterministic: two runs give the same bytes.
func TestDeterministic(t *testing.T) {
	f, d := loadInputs(t)
	a, err := Generate(f, d, treeConfig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(f, d, treeConfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for k := range a {
		if string(a[k]) != string(b[k]) {
			t.Fatalf("%s differs between runs", k)
		}
	}
}

// TestMissingDescriptionFails: a type or field without a description
// stops generation and is named.
func TestMissingDescriptionFails(t *testing.T) {
	f, d := loadInputs(t)
	delete(d, "core/v1.Container.image")
	delete(d, "apps/v1.DeploymentSpec")
	_, err := Generate(f, d, treeConfig)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"2 types and fields have no description", "core/v1.Container.image", "apps/v1.DeploymentSpec"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestUnusedDescriptionFails: a description that matches nothing is an
// error, so renamed fields do not leave stale text behind.
func TestUnusedDescriptionFails(t *testing.T) {
	f, d := loadInputs(t)
	d["core/v1.Container.imageName"] = "a field Kubernetes does not have"
	_, err := Generate(f, d, treeConfig)
	if err == nil || !strings.Contains(err.Error(), "core/v1.Container.imageName") {
		t.Fatalf("error %v does not name the unused description", err)
	}
}

func TestLoadDescriptionsErrors(t *testing.T) {
	for name, text := range map[string]string{
		"no section": "Pod: a pod\n",
		"no text":    "[core/v1]\nPod:\n",
		"no colon":   "[core/v1]\nPod a pod\n",
		"twice":      "[core/v1]\nPod: a\nPod: b\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "d.txt")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadDescriptions(p)
			if err == nil || !strings.Contains(err.Error(), "d.txt:") {
				t.Fatalf("error %v does not name the file and line", err)
			}
		})
	}
}

// TestInconsistentFactsFail: facts that contradict themselves stop
// generation with an error naming the type.
func TestInconsistentFactsFail(t *testing.T) {
	base := func() *Facts {
		return &Facts{Types: []*FactType{{
			Pkg: "apps/v1", Name: "Thing", Kind: "struct", ProtoMessage: "Thing",
			Fields: []*FactField{{Name: "A", Type: "string", ProtoNumber: 1, Tag: `json:"a" protobuf:"bytes,1,opt,name=a"`}},
		}}}
	}
	desc := Descriptions{"apps/v1.Thing": "a thing", "apps/v1.Thing.a": "a field"}
	cases := map[string]func(*Facts){
		"number mismatch": func(f *Facts) { f.Types[0].Fields[0].ProtoNumber = 2 },
		"unknown type":    func(f *Facts) { f.Types[0].Fields[0].Type = "apps/v1.Missing" },
		"bad type":        func(f *Facts) { f.Types[0].Fields[0].Type = "chan int" },
		"no package":      func(f *Facts) { f.Types[0].Pkg = "nowhere/v1" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := base()
			mutate(f)
			_, err := Generate(f, desc, Config{ImportPath: "example.com/x"})
			if err == nil || !strings.Contains(err.Error(), "Thing") {
				t.Fatalf("error %v does not name the type", err)
			}
		})
	}
	if _, err := Generate(base(), desc, Config{}); err == nil {
		t.Fatal("no error for an empty import path")
	}
}

func TestParseTypeExpr(t *testing.T) {
	for in, want := range map[string]*TypeExpr{
		"*core/v1.PodSpec": {Kind: "ptr", Elem: &TypeExpr{Kind: "named", Name: "core/v1.PodSpec"}},
		"[]uint8":          {Kind: "slice", Elem: &TypeExpr{Kind: "basic", Name: "uint8"}},
		"map[core/v1.ResourceName]resource.Quantity": {Kind: "map",
			Key:  &TypeExpr{Kind: "named", Name: "core/v1.ResourceName"},
			Elem: &TypeExpr{Kind: "named", Name: "resource.Quantity"}},
		"map[string]map[string]string": {Kind: "map", Key: &TypeExpr{Kind: "basic", Name: "string"},
			Elem: &TypeExpr{Kind: "map", Key: &TypeExpr{Kind: "basic", Name: "string"}, Elem: &TypeExpr{Kind: "basic", Name: "string"}}},
	} {
		got, err := ParseTypeExpr(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s:\n%s", in, d)
		}
	}
	for _, bad := range []string{"", "map[string", "complex128", "func()"} {
		if _, err := ParseTypeExpr(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestWriteRemovesStaleFiles: Write replaces generated files and removes
// generated files it no longer has, and leaves hand-written ones alone.
func TestWriteRemovesStaleFiles(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "api"), 0o755))
	must(os.WriteFile(filepath.Join(root, "api", "zz_generated.old.go"), []byte("package api\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "api", "shared.go"), []byte("package api\n"), 0o644))
	must(Write(root, map[string][]byte{"api/zz_generated.types.go": []byte("package api\n")}))
	if _, err := os.Stat(filepath.Join(root, "api", "zz_generated.old.go")); !os.IsNotExist(err) {
		t.Fatal("stale generated file kept")
	}
	for _, keep := range []string{"shared.go", "zz_generated.types.go"} {
		if _, err := os.Stat(filepath.Join(root, "api", keep)); err != nil {
			t.Fatalf("%s: %v", keep, err)
		}
	}
}

// TestOpenAPIDocument checks the generated OpenAPI schemas: every schema
// and property is described, every reference resolves, and Kubernetes'
// extensions and kinds are there.
func TestOpenAPIDocument(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(outRoot, "api", "zz_generated.openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	for name, s := range schemas {
		if d, _ := s["description"].(string); d == "" {
			t.Errorf("%s has no description", name)
		}
		props, _ := s["properties"].(map[string]any)
		for pn, p := range props {
			if d, _ := p.(map[string]any)["description"].(string); d == "" {
				t.Errorf("%s.%s has no description", name, pn)
			}
		}
	}
	for _, ref := range regexp.MustCompile(`#/components/schemas/([\w.\-]+)`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := schemas[ref[1]]; !ok {
			t.Errorf("reference to %s, which is not in the document", ref[1])
		}
	}
	ports := schemas["io.k8s.api.core.v1.Container"]["properties"].(map[string]any)["ports"].(map[string]any)
	if ports["x-kubernetes-list-type"] != "map" || ports["x-kubernetes-patch-merge-key"] != "containerPort" {
		t.Errorf("Container.ports lost its list type or merge key: %v", ports)
	}
	for name, kind := range map[string]string{
		"io.k8s.api.core.v1.Pod":                              "Pod",
		"io.k8s.api.apps.v1.Deployment":                       "Deployment",
		"io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics": "NodeMetrics",
		"io.k8s.api.authorization.v1.SelfSubjectAccessReview": "SelfSubjectAccessReview",
	} {
		gvk, _ := schemas[name]["x-kubernetes-group-version-kind"].([]any)
		if len(gvk) != 1 || gvk[0].(map[string]any)["kind"] != kind {
			t.Errorf("%s: group-version-kind %v", name, gvk)
		}
	}
	if _, ok := schemas["io.k8s.api.core.v1.EphemeralContainer"]["properties"].(map[string]any)["image"]; !ok {
		t.Error("EphemeralContainer does not inline the common container fields")
	}
}

// TestLibraryMappings: the flips for the library's MicroTime and Lease map
// those types onto store and election instead of generating them.
func TestLibraryMappings(t *testing.T) {
	f, d := loadInputs(t)
	files, err := Generate(f, d, treeConfig)
	if err != nil {
		t.Fatal(err)
	}
	coord := string(files["api/coordination/zz_generated.types.go"])
	if strings.Contains(coord, "type Lease struct") || strings.Contains(coord, "type LeaseSpec struct") {
		t.Error("Lease is still generated")
	}
	if !strings.Contains(coord, "Items []election.Lease") {
		t.Error("LeaseList does not hold election.Lease")
	}
	meta := string(files["api/internal/metapb/zz_generated.metapb.go"])
	for _, want := range []string{"func SizeLease(m *election.Lease)", "func UnmarshalLeaseSpec(dAtA []byte, m *election.LeaseSpec)", "m.AcquireTime.Time"} {
		if !strings.Contains(meta, want) {
			t.Errorf("metapb lacks %q", want)
		}
	}
	events := string(files["api/events/zz_generated.types.go"])
	if !strings.Contains(events, "EventTime store.MicroTime") {
		t.Error("events.Event does not use store.MicroTime")
	}
}
