package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
)

// fixtures maps each hand-written file (shapes from the Kubernetes API
// reference) to a new value of its type.
var fixtures = map[string]func() any{
	"pod.json":           func() any { return &api.Pod{} },
	"node.json":          func() any { return &api.Node{} },
	"namespace.json":     func() any { return &api.Namespace{} },
	"binding.json":       func() any { return &api.Binding{} },
	"service.json":       func() any { return &api.Service{} },
	"endpoints.json":     func() any { return &api.Endpoints{} },
	"event.json":         func() any { return &api.Event{} },
	"lease.json":         func() any { return &election.Lease{} },
	"resourcequota.json": func() any { return &api.ResourceQuota{} },
	"deployment.json":    func() any { return &apps.Deployment{} },
	"replicaset.json":    func() any { return &apps.ReplicaSet{} },
	"statefulset.json":   func() any { return &apps.StatefulSet{} },
	"daemonset.json":     func() any { return &apps.DaemonSet{} },
	"scale.json":         func() any { return &autoscaling.Scale{} },
	"podlist.json":       func() any { return &api.PodList{} },
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
			// Every value of the input comes back at the same place; the
			// output may add the zero values Kubernetes' types also write
			// ("resources":{}, "lastProbeTime":null).
			if path, ok := contained(a, b, "$"); !ok {
				t.Fatalf("round trip lost or changed %s:\nin  %s\nout %s", path, compact(in), out)
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

// contained reports whether every value of JSON document a is in b at the
// same place (objects may have more keys in b); if not, it names the first
// place that differs.
func contained(a, b any, path string) (string, bool) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := contained(v, w, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path, false
		}
		for i := range x {
			if p, ok := contained(x[i], y[i], fmt.Sprintf("%s[%d]", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(a, b)
}

func compact(b []byte) string {
	var buf bytes.Buffer
	json.Compact(&buf, b)
	return buf.String()
}

func TestStoreCloneUsesDeepCopy(t *testing.T) {
	p := loadFixture[api.Pod](t, "pod.json")
	c := store.Clone(p)
	if c == p || !reflect.DeepEqual(c, p) {
		t.Fatal("Clone is not an equal private copy")
	}
	c.Labels["app"] = "changed"
	if p.Labels["app"] != "web" {
		t.Fatal("Clone shares the labels map")
	}
}
