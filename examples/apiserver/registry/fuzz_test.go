package registry

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// FuzzObjectPipeline feeds arbitrary JSON through what an apiserver does
// with a request body for every kind: decode, prepare, default, validate,
// update-validate, render a table, deep-copy and re-encode. Nothing may
// panic; validation errors must be field errors; defaulting must be
// idempotent; a deep copy must equal the original.
func FuzzObjectPipeline(f *testing.F) {
	for name := range fixtures {
		if b, err := os.ReadFile(filepath.Join(fixtureDir, name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"spec":{"containers":[{"name":"a","livenessProbe":{},"resources":{"requests":{"cpu":"-1"}}}],"tolerations":[{}]}}`))
	f.Add([]byte(`{"spec":{"selector":{"matchExpressions":[{"key":"a","operator":"In"}]},"strategy":{"rollingUpdate":{}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range Kinds() {
			obj := d.NewObject()
			if json.Unmarshal(data, obj) != nil {
				continue
			}
			runPipeline(t, d, obj)
		}
	})
}

func runPipeline(t *testing.T, d Descriptor, obj store.Object) {
	if err := d.DefaultObject(obj); err != nil {
		t.Fatal(err)
	}
	once, _ := json.Marshal(obj)
	if err := d.DefaultObject(obj); err != nil {
		t.Fatal(err)
	}
	twice, _ := json.Marshal(obj)
	if string(once) != string(twice) {
		t.Fatalf("%s: defaulting is not idempotent:\n%s\n%s", d.Resource().Kind, once, twice)
	}
	if err := d.ValidateObject(obj); err != nil {
		var fe store.FieldErrors
		if !errors.As(err, &fe) || !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%s: validation error is not FieldErrors: %v", d.Resource().Kind, err)
		}
		for _, e := range fe {
			if e.Field == "" || e.Reason == "" {
				t.Fatalf("%s: field error without field or reason: %+v", d.Resource().Kind, e)
			}
		}
	}
	m := reflect.ValueOf(obj).MethodByName("DeepCopy")
	cp := m.Call(nil)[0].Interface()
	if !reflect.DeepEqual(cp, obj) {
		t.Fatalf("%s: DeepCopy differs", d.Resource().Kind)
	}
	d.(interface {
		pipeline(*testing.T, store.Object)
	}).pipeline(t, obj)
}

// pipeline runs the typed part of the pipeline (declared here, so that
// every kind of the registry gets it).
func (k *Kind[T]) pipeline(t *testing.T, obj store.Object) { pipelineTyped(t, k, obj.(T)) }

func pipelineTyped[T store.Object](t *testing.T, k *Kind[T], obj T) {
	_ = k.ValidateUpdate(obj, obj)
	if _, err := k.Table([]T{obj}, table.Options{Now: tnow, Include: table.IncludeObjectFull}); err != nil {
		t.Fatalf("table: %v", err)
	}
	if s, ok := k.Scale(obj); ok {
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, label := range k.FieldLabels() {
		k.FieldValue(obj, label)
	}
	s := k.Strategy()
	u := store.Clone(obj)
	s.(rest.UpdatePreparer[T]).PrepareForUpdate(u, obj)
	if sp, ok := s.(rest.StatusPreparer[T]); ok {
		_ = sp.PrepareForStatusUpdate(obj, u)
	}
	s.(rest.CreatePreparer[T]).PrepareForCreate(u)
	if _, err := json.Marshal(obj); err != nil {
		t.Fatalf("encode: %v", err)
	}
}
