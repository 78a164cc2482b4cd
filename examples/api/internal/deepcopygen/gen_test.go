package deepcopygen

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type leaf struct{ A, B string }

type node struct {
	Name   string
	When   time.Time
	Ptr    *leaf
	PtrInt *int
	List   []leaf
	Deep   []node
	Map    map[string][]string
	Flat   map[string]int
	hidden []int
}

func TestGenerate(t *testing.T) {
	src, err := Generate("deepcopygen", "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen",
		[]reflect.Type{reflect.TypeFor[node]()}, map[string]string{"time": "time"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		"func (in *node) DeepCopy() *node {",
		"func deepCopynode(in, out *node) {",
		"out.Ptr = new(leaf)",
		"*out.Ptr = *in.Ptr",
		"out.Deep = make([]node, len(in.Deep))",
		"deepCopynode(&in.Deep[i0], &out.Deep[i0])",
		"m0 := make(map[string][]string, len(in.Map))",
		"m0[k0] = v0",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("generated code lacks %q:\n%s", want, s)
		}
	}
	// no copy code for fields without pointers (time.Time, the leaf list
	// elements) or for unexported fields
	for _, bad := range []string{"in.When", "in.hidden", "deepCopyleaf", "for i0 := range in.List"} {
		if strings.Contains(s, bad) {
			t.Errorf("generated code has %q:\n%s", bad, s)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := Generate("p", "x/p", []reflect.Type{reflect.TypeFor[int]()}, nil); err == nil {
		t.Error("non-struct root accepted")
	}
	type needsTime struct{ T *time.Time }
	if _, err := Generate("deepcopygen", "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen",
		[]reflect.Type{reflect.TypeFor[needsTime]()}, nil); err == nil || !strings.Contains(err.Error(), "needs an import of time") {
		t.Errorf("missing import: err = %v", err)
	}
	type withIface struct{ X any }
	if _, err := Generate("deepcopygen", "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen",
		[]reflect.Type{reflect.TypeFor[withIface]()}, nil); err == nil {
		t.Error("interface field accepted")
	}
}
