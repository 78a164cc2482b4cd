package registry

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// fixtureDir holds the API types' hand-written fixtures (shapes from the
// Kubernetes API reference), shared with examples/api's tests.
const fixtureDir = "../../api/testdata"

// fixtures maps each fixture file to a new value of its type.
var fixtures = map[string]func() any{
	"pod.json":           func() any { return &api.Pod{} },
	"node.json":          func() any { return &api.Node{} },
	"namespace.json":     func() any { return &api.Namespace{} },
	"binding.json":       func() any { return &api.Binding{} },
	"service.json":       func() any { return &api.Service{} },
	"endpoints.json":     func() any { return &api.Endpoints{} },
	"event.json":         func() any { return &api.Event{} },
	"lease.json":         func() any { return &api.Lease{} },
	"resourcequota.json": func() any { return &api.ResourceQuota{} },
	"deployment.json":    func() any { return &api.Deployment{} },
	"replicaset.json":    func() any { return &api.ReplicaSet{} },
	"statefulset.json":   func() any { return &api.StatefulSet{} },
	"daemonset.json":     func() any { return &api.DaemonSet{} },
	"scale.json":         func() any { return &api.Scale{} },
	"podlist.json":       func() any { return &api.PodList{} },
}

// decodeStrict decodes b into v, failing on any field v does not know.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
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
