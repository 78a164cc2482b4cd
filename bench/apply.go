package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	stagingapi "github.com/setpoint-dev/setpoint/examples/api"
	stagingapps "github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
)

// The apply benchmark compares server-side apply of a Deployment by two
// managers in turn: ours (store/rest/fieldmanager over our generated types
// and the schema converted from our OpenAPI document) against
// k8s.io/apimachinery's managedfields.FieldManager over k8s.io/api's
// Deployment and client-go's built-in schema. Each side starts from the
// same object, applies the same decoded configurations in the same order,
// and carries its live typed object and managedFields from apply to apply
// as an apiserver does (typed object in, typed object out); decoding the
// request body and the store write are left out of both.
const (
	applyOps    = 1000
	applyRounds = 5
)

func init() {
	register("apply", benchApply)
}

const applyDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.0","ports":[{"containerPort":80,"protocol":"TCP"}],
"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"resources":{"limits":{"cpu":"500m","memory":"128Mi"}},"imagePullPolicy":"IfNotPresent"},
{"name":"sidecar","image":"busybox:1","args":["sleep","3600"]}],"restartPolicy":"Always","terminationGracePeriodSeconds":30}}}}`

// applyConfigs returns the configurations the two managers apply in turn:
// alice owns the pod template (a new image each time), bob the replicas
// and a label of his own.
func applyConfigs() []map[string]any {
	var out []map[string]any
	for i := 0; i < applyOps; i++ {
		var s string
		if i%2 == 0 {
			s = fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[
{"name":"web","image":"nginx:1.%d","ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"%d"}]},
{"name":"sidecar","image":"busybox:1","args":["sleep","3600"]}]}}}}`, i, i)
		} else {
			s = fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","labels":{"owner":"bob-%d"}},"spec":{"replicas":%d}}`, i, 1+i%7)
		}
		v, err := fieldmanager.DecodeJSON([]byte(s))
		if err != nil {
			panic(err)
		}
		out = append(out, v.(map[string]any))
	}
	return out
}

func manager(i int) string {
	if i%2 == 0 {
		return "alice"
	}
	return "bob"
}

// oursApply runs the configurations through our field manager.
func oursApply(m *fieldmanager.Manager, cfgs []map[string]any) (time.Duration, error) {
	// alice creates the object by apply, as an apiserver would.
	first, err := fieldmanager.DecodeJSON([]byte(applyDeployment))
	if err != nil {
		return 0, err
	}
	merged, fields, err := m.Apply(nil, first.(map[string]any), nil, fieldmanager.Operation{Manager: "alice"}, false)
	if err != nil {
		return 0, err
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return 0, err
	}
	live := &stagingapps.Deployment{}
	if err := json.Unmarshal(b, live); err != nil {
		return 0, err
	}
	live.ManagedFields, live.UID, live.ResourceVersion = fields, "u1", "7"
	start := time.Now()
	for i, cfg := range cfgs {
		b, err := json.Marshal(live)
		if err != nil {
			return 0, err
		}
		v, err := fieldmanager.DecodeJSON(b)
		if err != nil {
			return 0, err
		}
		u := v.(map[string]any)
		delete(u["metadata"].(map[string]any), "managedFields")
		merged, fields, err := m.Apply(u, cfg, live.ManagedFields, fieldmanager.Operation{Manager: manager(i)}, false)
		if err != nil {
			return 0, fmt.Errorf("ours, apply %d: %w", i, err)
		}
		if merged != nil {
			b, err := json.Marshal(merged)
			if err != nil {
				return 0, err
			}
			next := &stagingapps.Deployment{}
			if err := json.Unmarshal(b, next); err != nil {
				return 0, err
			}
			live = next
		}
		live.ManagedFields = fields
	}
	d := time.Since(start)
	if len(live.ManagedFields) != 2 { // alice, bob
		return 0, fmt.Errorf("ours: %d managedFields entries, want 2", len(live.ManagedFields))
	}
	return d, checkFinal("ours", *live.Spec.Replicas, live.Spec.Template.Spec.Containers[0].Image, live.Labels)
}

// anchorApply runs the same configurations through Kubernetes' field manager.
func anchorApply(fm *managedfields.FieldManager, cfgs []map[string]any) (time.Duration, error) {
	first := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(applyDeployment), &first.Object); err != nil {
		return 0, err
	}
	created, err := fm.Apply(&appsv1.Deployment{}, first, "alice", false)
	if err != nil {
		return 0, err
	}
	live := created.(*appsv1.Deployment)
	live.UID, live.ResourceVersion = "u1", "7"
	start := time.Now()
	for i, cfg := range cfgs {
		applied := &unstructured.Unstructured{Object: patch.DeepCopyJSON(cfg).(map[string]any)}
		out, err := fm.Apply(live, applied, manager(i), false)
		if err != nil {
			return 0, fmt.Errorf("anchor, apply %d: %w", i, err)
		}
		live = out.(*appsv1.Deployment)
	}
	d := time.Since(start)
	if len(live.ManagedFields) != 2 {
		return 0, fmt.Errorf("anchor: %d managedFields entries, want 2", len(live.ManagedFields))
	}
	return d, checkFinal("anchor", *live.Spec.Replicas, live.Spec.Template.Spec.Containers[0].Image, live.Labels)
}

// checkFinal checks that a side ended where the configurations lead: the
// last replicas and label bob applied, the last image alice applied, and
// alice's label kept.
func checkFinal(side string, replicas int32, image string, labels map[string]string) error {
	lastAlice, lastBob := applyOps-2, applyOps-1
	if applyOps%2 == 1 {
		lastAlice, lastBob = applyOps-1, applyOps-2
	}
	if want := int32(1 + lastBob%7); replicas != want {
		return fmt.Errorf("%s: replicas %d, want %d", side, replicas, want)
	}
	if want := fmt.Sprintf("nginx:1.%d", lastAlice); image != want {
		return fmt.Errorf("%s: image %s, want %s", side, image, want)
	}
	if labels["app"] != "web" || labels["owner"] != fmt.Sprintf("bob-%d", lastBob) {
		return fmt.Errorf("%s: labels %v", side, labels)
	}
	return nil
}

func benchApply(ctx context.Context) ([]Result, error) {
	types, err := fieldmanager.NewTypes(stagingapi.OpenAPISchemas())
	if err != nil {
		return nil, err
	}
	typ, ok := types.Kind("apps/v1", "Deployment")
	if !ok {
		return nil, fmt.Errorf("no apps/v1 Deployment in the generated schema")
	}
	zero, err := json.Marshal(&stagingapps.Deployment{})
	if err != nil {
		return nil, err
	}
	empty, err := fieldmanager.DecodeJSON(zero)
	if err != nil {
		return nil, err
	}
	em := empty.(map[string]any)
	em["apiVersion"], em["kind"] = "apps/v1", "Deployment"
	ours, err := fieldmanager.New(fieldmanager.Config{APIVersion: "apps/v1", Kind: "Deployment", Type: typ, Empty: em, StatusSubresource: true})
	if err != nil {
		return nil, err
	}
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	anchor, err := managedfields.NewDefaultFieldManager(applyconfigurations.NewTypeConverter(scheme.Scheme),
		scheme.Scheme, scheme.Scheme, scheme.Scheme, gvk, gvk.GroupVersion(), "",
		map[fieldpath.APIVersion]fieldpath.Filter{"apps/v1": fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status")))})
	if err != nil {
		return nil, err
	}
	cfgs := applyConfigs()
	var oursRates, anchorRates []float64
	for r := 0; r < applyRounds; r++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, err := oursApply(ours, cfgs)
		if err != nil {
			return nil, err
		}
		oursRates = append(oursRates, float64(len(cfgs))/d.Seconds())
		d, err = anchorApply(anchor, cfgs)
		if err != nil {
			return nil, err
		}
		anchorRates = append(anchorRates, float64(len(cfgs))/d.Seconds())
	}
	return []Result{{Name: "apply-server-side", Ours: median(oursRates), Anchor: median(anchorRates), Unit: "applies/s", HigherIsBetter: true}}, nil
}
