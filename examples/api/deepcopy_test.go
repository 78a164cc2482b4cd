package api

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	case reflect.TypeFor[MicroTime]():
		v.Set(reflect.ValueOf(store.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, *n*1000, time.UTC))))
		return
	case reflect.TypeFor[Quantity]():
		v.Set(reflect.ValueOf(MustParse(fmt.Sprintf("%dm", *n))))
		return
	case reflect.TypeFor[store.FieldsV1]():
		v.Set(reflect.ValueOf(store.FieldsV1{Raw: []byte(fmt.Sprintf(`{"f:n%d":{}}`, *n))}))
		return
	case reflect.TypeFor[IntOrString]():
		if *n%2 == 0 {
			v.Set(reflect.ValueOf(FromString(fmt.Sprint("s", *n))))
		} else {
			v.Set(reflect.ValueOf(FromInt(int32(*n))))
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
	case reflect.TypeFor[store.Time](), reflect.TypeFor[MicroTime](), reflect.TypeFor[Quantity](), reflect.TypeFor[IntOrString]():
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
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

func full[T any]() *T {
	v := new(T)
	n := 0
	populate(reflect.ValueOf(v).Elem(), &n)
	return v
}

// roundTrip checks DeepCopy equality and independence, and that the JSON
// encoding of a fully populated object decodes to an equal value (every
// field has a working JSON name).
func roundTrip[T any](t *testing.T, name string, deepCopy func(*T) *T) {
	t.Run(name, func(t *testing.T) {
		orig := full[T]()
		cp := deepCopy(orig)
		if !reflect.DeepEqual(orig, cp) {
			t.Fatal("DeepCopy differs from the original")
		}
		if cp == orig {
			t.Fatal("DeepCopy returned the same pointer")
		}
		// mutating the copy in place everywhere leaves the original alone
		mutate(reflect.ValueOf(cp).Elem())
		if reflect.DeepEqual(orig, cp) {
			t.Fatal("mutate changed nothing")
		}
		if !reflect.DeepEqual(orig, full[T]()) {
			t.Fatal("mutating the copy changed the original")
		}
		b, err := json.Marshal(orig)
		if err != nil {
			t.Fatal(err)
		}
		back := new(T)
		if err := decodeStrict(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(orig, back) {
			t.Fatalf("JSON round trip differs:\n%s", b)
		}
		var nilT *T
		if deepCopy(nilT) != nil {
			t.Fatal("DeepCopy(nil) != nil")
		}
	})
}

func TestDeepCopyFullyPopulated(t *testing.T) {
	roundTrip(t, "Namespace", (*Namespace).DeepCopy)
	roundTrip(t, "Node", (*Node).DeepCopy)
	roundTrip(t, "Pod", (*Pod).DeepCopy)
	roundTrip(t, "Binding", (*Binding).DeepCopy)
	roundTrip(t, "Service", (*Service).DeepCopy)
	roundTrip(t, "Endpoints", (*Endpoints).DeepCopy)
	roundTrip(t, "Event", (*Event).DeepCopy)
	roundTrip(t, "Lease", (*Lease).DeepCopy)
	roundTrip(t, "ResourceQuota", (*ResourceQuota).DeepCopy)
	roundTrip(t, "ReplicaSet", (*ReplicaSet).DeepCopy)
	roundTrip(t, "Deployment", (*Deployment).DeepCopy)
	roundTrip(t, "StatefulSet", (*StatefulSet).DeepCopy)
	roundTrip(t, "DaemonSet", (*DaemonSet).DeepCopy)
	roundTrip(t, "Scale", (*Scale).DeepCopy)
	roundTrip(t, "PodList", (*PodList).DeepCopy)
	roundTrip(t, "DeploymentList", (*DeploymentList).DeepCopy)
	roundTrip(t, "PodSpec", (*PodSpec).DeepCopy)
	roundTrip(t, "LabelSelector", (*LabelSelector).DeepCopy)
}

func BenchmarkDeepCopyPod(b *testing.B) {
	p := full[Pod]()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.DeepCopy()
	}
}

func BenchmarkJSONCopyPod(b *testing.B) {
	p := full[Pod]()
	b.ReportAllocs()
	for b.Loop() {
		data, _ := json.Marshal(p)
		var q Pod
		_ = json.Unmarshal(data, &q)
	}
}

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func BenchmarkDeepCopyFixturePod(b *testing.B) {
	p := new(Pod)
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
	p := new(Pod)
	json.Unmarshal(data, p)
	b.ReportAllocs()
	for b.Loop() {
		d, _ := json.Marshal(p)
		var q Pod
		_ = json.Unmarshal(d, &q)
	}
}

// Many goroutines deep-copy one object at once; every copy equals the
// single-threaded one.
func TestConcurrentDeepCopy(t *testing.T) {
	src := full[Deployment]()
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
