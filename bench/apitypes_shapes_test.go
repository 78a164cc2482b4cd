package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestFixturesDecodeStrictlyIntoKubernetesTypes checks the hand-written
// fixtures of examples/api (and so our types' JSON names, which decode them
// strictly) against the Kubernetes types: every field must exist there too.
func TestFixturesDecodeStrictlyIntoKubernetesTypes(t *testing.T) {
	types := map[string]func() any{
		"pod.json": func() any { return &corev1.Pod{} }, "node.json": func() any { return &corev1.Node{} },
		"namespace.json": func() any { return &corev1.Namespace{} }, "binding.json": func() any { return &corev1.Binding{} },
		"service.json": func() any { return &corev1.Service{} }, "endpoints.json": func() any { return &corev1.Endpoints{} },
		"event.json": func() any { return &corev1.Event{} }, "lease.json": func() any { return &coordinationv1.Lease{} },
		"resourcequota.json": func() any { return &corev1.ResourceQuota{} }, "deployment.json": func() any { return &appsv1.Deployment{} },
		"replicaset.json": func() any { return &appsv1.ReplicaSet{} }, "statefulset.json": func() any { return &appsv1.StatefulSet{} },
		"daemonset.json": func() any { return &appsv1.DaemonSet{} }, "scale.json": func() any { return &autoscalingv1.Scale{} },
		"podlist.json": func() any { return &corev1.PodList{} }, "status.json": func() any { return &metav1.Status{} },
	}
	for name, newV := range types {
		data, err := os.ReadFile(filepath.Join("..", "examples", "api", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(newV()); err != nil {
			t.Errorf("%s does not decode strictly into the Kubernetes type: %v", name, err)
		}
	}
}

// populate fills every exported field with a valid non-zero value.
func populate(v reflect.Value, n *int) {
	*n++
	switch v.Type() {
	case reflect.TypeFor[store.Time]():
		v.Set(reflect.ValueOf(store.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))))
		return
	case reflect.TypeFor[store.MicroTime]():
		v.Set(reflect.ValueOf(store.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC))))
		return
	case reflect.TypeFor[api.Quantity]():
		v.Set(reflect.ValueOf(api.MustParse("1500m")))
		return
	case reflect.TypeFor[store.FieldsV1]():
		v.Set(reflect.ValueOf(store.FieldsV1{Raw: []byte(`{"f:metadata":{}}`)}))
		return
	case reflect.TypeFor[api.IntOrString]():
		v.Set(reflect.ValueOf(api.FromString("25%")))
		return
	case reflect.TypeFor[api.RawExtension]():
		v.Set(reflect.ValueOf(api.RawExtension{Raw: []byte(`{"a":1}`)}))
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
		v.SetFloat(float64(*n))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		populate(p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		populate(s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		populate(k, n)
		e := reflect.New(v.Type().Elem()).Elem()
		populate(e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				populate(v.Field(i), n)
			}
		}
	}
}

// TestEveryFieldExistsInKubernetesTypes encodes fully populated objects of
// every type and decodes them strictly into the Kubernetes types, so every
// JSON name we use must exist there, at the same place.
func TestEveryFieldExistsInKubernetesTypes(t *testing.T) {
	pairs := []struct {
		ours   any
		theirs any
	}{
		{&api.Pod{}, &corev1.Pod{}}, {&api.Node{}, &corev1.Node{}}, {&api.Namespace{}, &corev1.Namespace{}},
		{&api.Binding{}, &corev1.Binding{}}, {&api.Service{}, &corev1.Service{}}, {&api.Endpoints{}, &corev1.Endpoints{}},
		{&api.Event{}, &corev1.Event{}}, {&election.Lease{}, &coordinationv1.Lease{}}, {&api.ResourceQuota{}, &corev1.ResourceQuota{}},
		{&apps.ReplicaSet{}, &appsv1.ReplicaSet{}}, {&apps.Deployment{}, &appsv1.Deployment{}}, {&apps.StatefulSet{}, &appsv1.StatefulSet{}},
		{&apps.DaemonSet{}, &appsv1.DaemonSet{}}, {&autoscaling.Scale{}, &autoscalingv1.Scale{}}, {&watch.Status{}, &metav1.Status{}},
		{&api.PodList{}, &corev1.PodList{}},
	}
	for _, p := range pairs {
		n := 0
		populate(reflect.ValueOf(p.ours).Elem(), &n)
		data, err := json.Marshal(p.ours)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p.theirs); err != nil {
			t.Errorf("%T: %v", p.ours, err)
		}
	}
}

// FuzzQuantityDifferential: where both parsers accept a quantity, the
// values and the canonical texts agree with apimachinery's.
func FuzzQuantityDifferential(f *testing.F) {
	for _, s := range []string{"100m", "1Gi", "2", "1.5", "500Mi", "1e3", "0.5", "1.1Ki", "12E", "-1n", "0.0001", "1000000m", "5e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ours, err := api.ParseQuantity(s)
		if err != nil {
			return
		}
		theirs, err := resource.ParseQuantity(s)
		if err != nil {
			return
		}
		back, err := resource.ParseQuantity(ours.String())
		if err != nil {
			t.Fatalf("%q: apimachinery cannot parse our %q: %v", s, ours.String(), err)
		}
		if back.Cmp(theirs) != 0 {
			t.Fatalf("%q: ours %s, apimachinery %s", s, ours.String(), theirs.String())
		}
		// apimachinery may print a parsed quantity as it was written
		// ("001"); adding zero makes it compute the canonical form.
		canon := theirs.DeepCopy()
		canon.Add(resource.Quantity{})
		// (beyond the int64 range apimachinery's canonical form is wrong:
		// it prints 1e25 as "10")
		if v := ours.Value(); v != math.MaxInt64 && v != math.MinInt64 && ours.String() != canon.String() {
			t.Fatalf("%q: ours prints %q, apimachinery %q", s, ours.String(), canon.String())
		}
		// beyond the int64 range ours saturates where apimachinery's overflows
		if m := ours.MilliValue(); m != math.MaxInt64 && m != math.MinInt64 && m != theirs.MilliValue() {
			t.Fatalf("%q: MilliValue ours %d, apimachinery %d", s, ours.MilliValue(), theirs.MilliValue())
		}
	})
}

// TestDiscoveryDecodesStrictly checks our discovery documents against
// apimachinery's types.
func TestDiscoveryDecodesStrictly(t *testing.T) {
	strict := func(v, into any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
	for _, gv := range []string{"v1", "apps/v1", "coordination.k8s.io/v1", "autoscaling/v1"} {
		l, ok := registry.Resources(gv)
		if !ok {
			t.Fatalf("%s not served", gv)
		}
		var out metav1.APIResourceList
		strict(l, &out)
		if out.GroupVersion != gv {
			t.Errorf("groupVersion %q", out.GroupVersion)
		}
	}
	var groups metav1.APIGroupList
	strict(registry.Groups(), &groups)
	var versions metav1.APIVersions
	strict(registry.CoreAPIVersions(), &versions)
}
