package deepcopy

import (
	"reflect"
	"testing"
	"time"
)

type inner struct {
	P *int
	M map[string][]string
}

type outer struct {
	Name   string
	When   time.Time
	In     inner
	Ptrs   []*inner
	Any    any
	Arr    [2]*int
	hidden []int
}

func TestCopyIsDeepAndEqual(t *testing.T) {
	one, two := 1, 2
	src := &outer{
		Name: "x", When: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		In:     inner{P: &one, M: map[string][]string{"a": {"b"}}},
		Ptrs:   []*inner{{P: &two}, nil},
		Any:    map[string]any{"k": []any{"v"}},
		Arr:    [2]*int{&one, nil},
		hidden: []int{7},
	}
	dst := Copy(src)
	if !reflect.DeepEqual(src, dst) {
		t.Fatalf("copy differs:\n%#v\n%#v", src, dst)
	}
	*dst.In.P = 10
	dst.In.M["a"][0] = "changed"
	*dst.Ptrs[0].P = 20
	dst.Any.(map[string]any)["k"].([]any)[0] = "changed"
	*dst.Arr[0] = 30
	if one != 1 || two != 2 || src.In.M["a"][0] != "b" || src.Any.(map[string]any)["k"].([]any)[0] != "v" {
		t.Fatalf("mutating the copy changed the source: %#v", src)
	}
	if Copy[outer](nil) != nil {
		t.Fatal("Copy(nil) != nil")
	}
}

func TestCopyKeepsNilVersusEmpty(t *testing.T) {
	src := &inner{M: map[string][]string{"a": {}, "b": nil}}
	dst := Copy(src)
	if dst.M["a"] == nil || dst.M["b"] != nil {
		t.Fatalf("nil/empty not preserved: %#v", dst.M)
	}
}
