package registry

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
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
	"lease.json":         func() any { return &election.Lease{} },
	"resourcequota.json": func() any { return &api.ResourceQuota{} },
	"deployment.json":    func() any { return &apps.Deployment{} },
	"replicaset.json":    func() any { return &apps.ReplicaSet{} },
	"statefulset.json":   func() any { return &apps.StatefulSet{} },
	"daemonset.json":     func() any { return &apps.DaemonSet{} },
	"scale.json":         func() any { return &autoscaling.Scale{} },
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
