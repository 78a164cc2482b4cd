package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
)

// Example_helpers shows the hand-written parts of the package: quantities,
// resource lists, label selectors, deep copies and resources.
func Example_helpers() {
	pod := &api.Pod{}
	pod.Name, pod.Namespace = "web", "default"
	pod.Labels = map[string]string{"app": "web", "tier": "frontend"}
	pod.Spec.Containers = []api.Container{{
		Name:  "web",
		Image: "nginx:1.27",
		Resources: api.ResourceRequirements{
			Requests: api.ResourceList{"cpu": api.MustParse("0.1"), "memory": api.MustParse("128Mi")},
		},
	}}

	// The JSON shape is Kubernetes'.
	b, _ := json.Marshal(pod.Spec.Containers[0].Resources)
	fmt.Println(string(b))

	// Quantities print canonically and compare exactly.
	cpu := pod.Spec.Containers[0].Resources.Requests["cpu"]
	fmt.Println(cpu.String(), cpu.Cmp(api.MustParse("100m")) == 0)
	sum := pod.Spec.Containers[0].Resources.Requests.Add(api.ResourceList{"cpu": api.MustParse("250m")})
	cpuSum, mem := sum["cpu"], sum["memory"]
	fmt.Println(cpuSum.String(), mem.String())

	// Label selectors as workloads write them.
	sel := &api.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []api.LabelSelectorRequirement{{Key: "tier", Operator: api.LabelSelectorOpIn, Values: []string{"frontend", "edge"}}}}
	text, _ := sel.SelectorString()
	fmt.Println(text, sel.Matches(pod.Labels))

	// Deep copies share nothing with the original.
	c := pod.DeepCopy()
	c.Labels["app"] = "changed"
	fmt.Println(pod.Labels["app"])

	// Where the apiserver serves the type.
	fmt.Println(api.PodResource.APIVersion, api.PodResource.Name, apps.DeploymentResource.APIVersion)
	// Output:
	// {"requests":{"cpu":"100m","memory":"128Mi"}}
	// 100m true
	// 350m 128Mi
	// app=web,tier in (edge,frontend) true
	// web
	// v1 pods apps/v1
}
