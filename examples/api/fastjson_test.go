package api_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/internal/fastjson"
	"github.com/setpoint-dev/setpoint/store"
)

// internal/fastjson decodes every kind of the API (fully populated, and
// randomly filled with nils, empty and one- or two-element collections) to
// exactly what encoding/json decodes from the same encoding: the store
// and the clients decode with it.
func TestFastJSONDecodesEveryKindLikeEncodingJSON(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			objs := []any{fullOf(k)}
			for seed := range int64(20) {
				v := k.new()
				filler(seed).Fill(v)
				objs = append(objs, v)
			}
			for i, obj := range objs {
				data, err := json.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				want, got := k.new(), k.new()
				if err := json.Unmarshal(data, want); err != nil {
					t.Fatal(err)
				}
				if err := fastjson.Unmarshal(data, got); err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("object %d decodes differently from %s", i, data)
				}
			}
		})
	}
}

// BenchmarkDecodePod compares decoding Pods with encoding/json and with
// internal/fastjson: a typical bound pod (one container with requests, a
// toleration, labels) and one with every field populated.
func BenchmarkDecodePod(b *testing.B) {
	typical := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "web-7d4b9c-x2k4p", UID: "7a1c2d3e-1111-2222-3333-444455556666",
		Labels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c"}, ResourceVersion: "12345", CreationTimestamp: store.NewTime(time.Unix(1_700_000_000, 0))}}
	typical.Spec.NodeName = "node-4711"
	typical.Spec.SchedulerName = "default-scheduler"
	typical.Spec.Containers = []api.Container{{Name: "c", Image: "registry.example/app:1", ImagePullPolicy: "IfNotPresent",
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: "File",
		Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParse("100m"), api.ResourceMemory: api.MustParse("500Mi")}}}}
	typical.Spec.RestartPolicy, typical.Spec.DNSPolicy = "Always", "ClusterFirst"
	typical.Spec.Tolerations = []api.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute"}}
	typical.Status.Phase, typical.Status.QOSClass = "Pending", "Burstable"
	for pname, pod := range map[string]*api.Pod{"typical": typical, "full": full[api.Pod]()} {
		data, err := json.Marshal(pod)
		if err != nil {
			b.Fatal(err)
		}
		for name, dec := range map[string]func([]byte, any) error{"encoding-json": json.Unmarshal, "fastjson": fastjson.Unmarshal} {
			b.Run(pname+"/"+name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					var p api.Pod
					if err := dec(data, &p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
