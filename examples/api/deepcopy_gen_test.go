package api

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen"
)

var updateGenerated = flag.Bool("update", false, "rewrite zz_generated_deepcopy.go")

// deepCopyRoots are the types that get a generated DeepCopy method.
var deepCopyRoots = []reflect.Type{
	reflect.TypeFor[Namespace](), reflect.TypeFor[Node](), reflect.TypeFor[Pod](), reflect.TypeFor[Binding](),
	reflect.TypeFor[Service](), reflect.TypeFor[Endpoints](), reflect.TypeFor[Event](), reflect.TypeFor[Lease](),
	reflect.TypeFor[ResourceQuota](), reflect.TypeFor[ReplicaSet](), reflect.TypeFor[Deployment](),
	reflect.TypeFor[StatefulSet](), reflect.TypeFor[DaemonSet](), reflect.TypeFor[Scale](),
	reflect.TypeFor[PodSpec](), reflect.TypeFor[LabelSelector](),
}

// TestDeepCopyGeneratedIsCurrent regenerates the DeepCopy code and fails if
// the committed file differs (run with -update to rewrite it).
func TestDeepCopyGeneratedIsCurrent(t *testing.T) {
	src, err := deepcopygen.Generate("api", "github.com/setpoint-dev/setpoint/examples/api", deepCopyRoots,
		map[string]string{"github.com/setpoint-dev/setpoint/store": "store"})
	if err != nil {
		t.Fatal(err)
	}
	const file = "zz_generated_deepcopy.go"
	if *updateGenerated {
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cur, src) {
		t.Fatalf("%s is stale: run go test ./examples/api -run TestDeepCopyGeneratedIsCurrent -update", file)
	}
}
