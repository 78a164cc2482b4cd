package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// populate fills every exported field reachable from v with a non-zero
// value: strings, numbers, bools, pointers, slices (two elements), maps
// (two entries); the special wire types get valid values.
func populate(v reflect.Value, n *int) {
	*n++
	switch v.Type() {
	case reflect.TypeFor[store.Time]():
		v.Set(reflect.ValueOf(store.NewTime(time.Date(2025, 1, 2, 3, 4, *n%60, 0, time.UTC))))
		return
	case reflect.TypeFor[store.MicroTime]():
		v.Set(reflect.ValueOf(store.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, *n*1000, time.UTC))))
		return
	case reflect.TypeFor[api.Quantity]():
		v.Set(reflect.ValueOf(api.MustParse(fmt.Sprintf("%dm", *n))))
		return
	case reflect.TypeFor[store.FieldsV1]():
		v.Set(reflect.ValueOf(store.FieldsV1{Raw: []byte(fmt.Sprintf(`{"f:n%d":{}}`, *n))}))
		return
	case reflect.TypeFor[api.RawExtension]():
		v.Set(reflect.ValueOf(api.RawExtension{Raw: []byte(fmt.Sprintf(`{"n":%d}`, *n))}))
		return
	case reflect.TypeFor[api.IntOrString]():
		if *n%2 == 0 {
			v.Set(reflect.ValueOf(api.FromString(fmt.Sprint("s", *n))))
		} else {
			v.Set(reflect.ValueOf(api.FromInt(int32(*n))))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprint("s", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint8:
		v.SetUint(uint64(*n % 256))
	case reflect.Float64:
		v.SetFloat(float64(*n) / 2)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		populate(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			populate(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			populate(k, n)
			e := reflect.New(v.Type().Elem()).Elem()
			populate(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				populate(v.Field(i), n)
			}
		}
	default:
		panic("populate: unhandled kind " + v.Kind().String())
	}
}

// mutate changes every leaf reachable from v in place, through the
// existing pointers, slices and maps.
func mutate(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[store.Time](), reflect.TypeFor[store.MicroTime](), reflect.TypeFor[api.Quantity](), reflect.TypeFor[api.IntOrString]():
		v.Set(reflect.Zero(v.Type()))
		return
	case reflect.TypeFor[store.FieldsV1](), reflect.TypeFor[api.RawExtension]():
		v.Field(0).Set(reflect.ValueOf([]byte(`{"mutated":true}`)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint8:
		v.SetUint(v.Uint() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Pointer:
		if !v.IsNil() {
			mutate(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			mutate(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			mutate(e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i))
			}
		}
	}
}

// fullOf returns a new object of k with every field populated.
func fullOf(k kind) any {
	v := k.new()
	n := 0
	populate(reflect.ValueOf(v).Elem(), &n)
	return v
}

func full[T any]() *T {
	v := new(T)
	n := 0
	populate(reflect.ValueOf(v).Elem(), &n)
	return v
}

// deepCopyOf calls v's DeepCopy method.
func deepCopyOf(t *testing.T, v any) any {
	m := reflect.ValueOf(v).MethodByName("DeepCopy")
	if !m.IsValid() {
		t.Fatalf("%T has no DeepCopy method", v)
	}
	return m.Call(nil)[0].Interface()
}

// TestDeepCopyFullyPopulated checks, for every kind of the tree, DeepCopy
// equality and independence (mutating the copy everywhere leaves the
// original alone), that DeepCopy of nil is nil, and that the JSON encoding
// of a fully populated object decodes to an equal value (every field has a
// working JSON name).
func TestDeepCopyFullyPopulated(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			orig := fullOf(k)
			cp := deepCopyOf(t, orig)
			if !reflect.DeepEqual(orig, cp) {
				t.Fatal("DeepCopy differs from the original")
			}
			if cp == orig {
				t.Fatal("DeepCopy returned the same pointer")
			}
			mutate(reflect.ValueOf(cp).Elem())
			if reflect.DeepEqual(orig, cp) {
				t.Fatal("mutate changed nothing")
			}
			if !reflect.DeepEqual(orig, fullOf(k)) {
				t.Fatal("mutating the copy changed the original")
			}
			b, err := json.Marshal(orig)
			if err != nil {
				t.Fatal(err)
			}
			back := k.new()
			if err := decodeStrict(b, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(orig, back) {
				t.Fatalf("JSON round trip differs:\n%s", b)
			}
			nilV := reflect.Zero(reflect.TypeOf(orig)).Interface()
			if out := reflect.ValueOf(deepCopyOf(t, nilV)); !out.IsNil() {
				t.Fatal("DeepCopy(nil) != nil")
			}
		})
	}
	for name, v := range map[string]any{"PodSpec": full[api.PodSpec](), "LabelSelector": full[api.LabelSelector]()} {
		if c := deepCopyOf(t, v); !reflect.DeepEqual(c, v) {
			t.Errorf("%s: DeepCopy differs from the original", name)
		}
	}
}

func BenchmarkDeepCopyPod(b *testing.B) {
	p := full[api.Pod]()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.DeepCopy()
	}
}

func BenchmarkJSONCopyPod(b *testing.B) {
	p := full[api.Pod]()
	b.ReportAllocs()
	for b.Loop() {
		data, _ := json.Marshal(p)
		var q api.Pod
		_ = json.Unmarshal(data, &q)
	}
}

func BenchmarkDeepCopyFixturePod(b *testing.B) {
	p := new(api.Pod)
	data, err := os.ReadFile("testdata/pod.json")
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(data, p); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.DeepCopy()
	}
}

func BenchmarkJSONCopyFixturePod(b *testing.B) {
	data, err := os.ReadFile("testdata/pod.json")
	if err != nil {
		b.Fatal(err)
	}
	p := new(api.Pod)
	json.Unmarshal(data, p)
	b.ReportAllocs()
	for b.Loop() {
		d, _ := json.Marshal(p)
		var q api.Pod
		_ = json.Unmarshal(d, &q)
	}
}

// Many goroutines deep-copy one object at once; every copy equals the
// single-threaded one.
func TestConcurrentDeepCopy(t *testing.T) {
	src := full[apps.Deployment]()
	want := src.DeepCopy()
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if c := src.DeepCopy(); !reflect.DeepEqual(c, want) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d concurrent copies differ from the original", n)
	}
}
