package api

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/watch"
)

// fixtures maps each hand-written file (shapes from the Kubernetes API
// reference) to a new value of its type.
var fixtures = map[string]func() any{
	"pod.json":           func() any { return &Pod{} },
	"node.json":          func() any { return &Node{} },
	"namespace.json":     func() any { return &Namespace{} },
	"binding.json":       func() any { return &Binding{} },
	"service.json":       func() any { return &Service{} },
	"endpoints.json":     func() any { return &Endpoints{} },
	"event.json":         func() any { return &Event{} },
	"lease.json":         func() any { return &Lease{} },
	"resourcequota.json": func() any { return &ResourceQuota{} },
	"deployment.json":    func() any { return &Deployment{} },
	"replicaset.json":    func() any { return &ReplicaSet{} },
	"statefulset.json":   func() any { return &StatefulSet{} },
	"daemonset.json":     func() any { return &DaemonSet{} },
	"scale.json":         func() any { return &Scale{} },
	"podlist.json":       func() any { return &PodList{} },
	"status.json":        func() any { return &watch.Status{} },
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadFixture[T any](t *testing.T, name string) *T {
	t.Helper()
	v := new(T)
	if err := json.Unmarshal(readFixture(t, name), v); err != nil {
		t.Fatal(err)
	}
	return v
}

// decodeStrict decodes b into v, failing on any field v does not know.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestRoundTripFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) != len(fixtures) {
		t.Fatalf("%d fixture files, %d registered", len(files), len(fixtures))
	}
	for name, newV := range fixtures {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			v := newV()
			if err := decodeStrict(in, v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(in, &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip changed the document:\nin  %s\nout %s", compact(in), out)
			}
			// a second decode gives an equal value
			w := newV()
			if err := decodeStrict(out, w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v, w) {
				t.Fatalf("decode(encode(x)) != x")
			}
		})
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	json.Compact(&buf, b)
	return buf.String()
}
