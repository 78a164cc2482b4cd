package main

// Benchmarks of examples/api and store/rest/patch against the Kubernetes
// libraries that do the same jobs (k8s.io/api's generated DeepCopy,
// apimachinery's strategic merge patch and resource.Quantity), on the same
// inputs in the same run.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

func init() {
	register("apitypes", runAPITypes)
}

// compareRates measures ours and anchor in alternating slices (so that a
// change in machine load hits both alike) for about d in total, and returns
// each one's operations per second.
func compareRates(ctx context.Context, d time.Duration, ours, anchor func() error) (float64, float64, error) {
	const rounds = 20
	slice := d / (2 * rounds)
	var n [2]int
	var spent [2]time.Duration
	for r := 0; r < rounds; r++ {
		for i, fn := range []func() error{ours, anchor} {
			start := time.Now()
			for time.Since(start) < slice {
				for j := 0; j < 16; j++ {
					if err := fn(); err != nil {
						return 0, 0, err
					}
				}
				n[i] += 16
			}
			spent[i] += time.Since(start)
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
	}
	return float64(n[0]) / spent[0].Seconds(), float64(n[1]) / spent[1].Seconds(), nil
}

// benchPod is a realistic pod: two containers with ports, env, resources,
// probes and mounts, and a running status.
const benchPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d4b9c-x2k9p","namespace":"default","uid":"0b9a8f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","resourceVersion":"4242","creationTimestamp":"2025-01-02T03:04:05Z","labels":{"app":"web","pod-template-hash":"7d4b9c"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"11111111-2222-3333-4444-555555555555","controller":true}]},
"spec":{"volumes":[{"name":"data","emptyDir":{}}],"containers":[{"name":"web","image":"nginx:1.27","args":["-g","daemon off;"],"ports":[{"name":"http","containerPort":80,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"},{"name":"POD_IP","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"status.podIP"}}}],"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},"volumeMounts":[{"name":"data","mountPath":"/data"}],"livenessProbe":{"httpGet":{"path":"/healthz","port":80,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"imagePullPolicy":"IfNotPresent"},{"name":"log","image":"busybox:1.36","command":["sh","-c","tail -f /data/log"],"imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","nodeName":"node-1","schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2025-01-02T03:04:30Z"}],"hostIP":"192.168.1.10","podIP":"10.244.1.7","podIPs":[{"ip":"10.244.1.7"}],"startTime":"2025-01-02T03:04:06Z","containerStatuses":[{"name":"web","state":{"running":{"startedAt":"2025-01-02T03:04:10Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"nginx:1.27","imageID":"sha256:def","containerID":"containerd://bbb","started":true}],"qosClass":"Burstable"}}`

const benchDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"},"labels":{"app":"web"}},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},{"name":"log","image":"busybox:1.36"}]}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}},"status":{"replicas":3,"readyReplicas":3}}`

// what kubectl apply sends to change one image and one env var, drop a label
const benchApplyPatch = `{"metadata":{"labels":{"app":null,"tier":"front"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"log"}],"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"B"}],"env":[{"name":"B","value":"3"}],"name":"web"},{"image":"busybox:1.37","name":"log"}]}}}}`

func runAPITypes(ctx context.Context) ([]Result, error) {
	const d = 4 * time.Second
	var results []Result

	// DeepCopy of the same pod: our generated code vs k8s.io/api's.
	var ours api.Pod
	var theirs corev1.Pod
	if err := json.Unmarshal([]byte(benchPod), &ours); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(benchPod), &theirs); err != nil {
		return nil, err
	}
	var sink any
	o, a, err := compareRates(ctx, d,
		func() error { sink = ours.DeepCopy(); return nil },
		func() error { sink = theirs.DeepCopy(); return nil })
	if err != nil {
		return nil, err
	}
	results = append(results, Result{Name: "apitypes-deepcopy-pod", Ours: o, Anchor: a, Unit: "ops/s", HigherIsBetter: true})

	// Strategic merge patch of a kubectl-apply patch onto a deployment.
	schema := registry.DeploymentKind.PatchSchema()
	doc, p := []byte(benchDeployment), []byte(benchApplyPatch)
	mine, err := patch.StrategicMergePatch(doc, p, schema)
	if err != nil {
		return nil, err
	}
	ref, err := strategicpatch.StrategicMergePatch(doc, p, appsv1.Deployment{})
	if err != nil {
		return nil, fmt.Errorf("apimachinery strategic merge patch: %w", err)
	}
	if err := sameJSON(mine, ref); err != nil {
		return nil, fmt.Errorf("strategic merge patch results differ: %w", err)
	}
	o, a, err = compareRates(ctx, d,
		func() error { _, err := patch.StrategicMergePatch(doc, p, schema); return err },
		func() error { _, err := strategicpatch.StrategicMergePatch(doc, p, appsv1.Deployment{}); return err })
	if err != nil {
		return results, err
	}
	results = append(results, Result{Name: "apitypes-smp-apply", Ours: o, Anchor: a, Unit: "ops/s", HigherIsBetter: true})

	// Quantity parsing and canonical formatting.
	inputs := []string{"100m", "1Gi", "2", "1.5", "500Mi", "1e3", "250m", "4Gi", "0.5", "128974848"}
	for _, in := range inputs {
		q, err := api.ParseQuantity(in)
		if err != nil {
			return results, err
		}
		r := resource.MustParse(in)
		if q.String() != r.String() {
			return results, fmt.Errorf("quantity %q: ours prints %q, apimachinery %q", in, q.String(), r.String())
		}
	}
	i := 0
	o, a, err = compareRates(ctx, d,
		func() error {
			q, err := api.ParseQuantity(inputs[i%len(inputs)])
			i++
			sink = q.String()
			return err
		},
		func() error {
			q, err := resource.ParseQuantity(inputs[i%len(inputs)])
			i++
			sink = q.String()
			return err
		})
	if err != nil {
		return results, err
	}
	_ = sink
	results = append(results, Result{Name: "apitypes-quantity-parse-format", Ours: o, Anchor: a, Unit: "ops/s", HigherIsBetter: true})
	return results, nil
}

// sameJSON checks that two JSON documents are equal as values.
func sameJSON(a, b []byte) error {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return err
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	if string(xb) != string(yb) {
		return fmt.Errorf("\nours %s\nk8s  %s", xb, yb)
	}
	return nil
}
