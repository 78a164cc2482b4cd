package registry_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

func Example() {
	pod := registry.PodKind.New()
	pod.Name, pod.Namespace = "web", "default"
	pod.Spec.Containers = []api.Container{{
		Name:  "web",
		Image: "nginx:1.27",
		Resources: api.ResourceRequirements{
			Requests: api.ResourceList{"cpu": api.MustParse("0.1"), "memory": api.MustParse("128Mi")},
		},
	}, {Name: "log"}}

	// Admission: defaults, then validation with field paths.
	registry.PodKind.Default(pod)
	fmt.Println(pod.Spec.RestartPolicy, *pod.Spec.TerminationGracePeriodSeconds, pod.Spec.Containers[0].ImagePullPolicy)
	fmt.Println(registry.PodKind.Validate(pod))
	pod.Spec.Containers = pod.Spec.Containers[:1]
	fmt.Println(registry.PodKind.Validate(pod))

	// The REST strategy: a create through the main resource starts
	// Pending, with its quality of service class.
	s := registry.PodKind.Strategy()
	s.(rest.CreatePreparer[*api.Pod]).PrepareForCreate(pod)
	_, scalable := s.(rest.Scaler[*api.Pod])
	fmt.Println(pod.Status.Phase, pod.Status.QOSClass, scalable)

	// Field selectors, as in ?fieldSelector=.
	match, err := registry.PodKind.FieldFilter("spec.nodeName=,status.phase=Pending")
	fmt.Println(match(pod), err)

	// The server-side table kubectl prints.
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	pod.CreationTimestamp = store.NewTime(now.Add(-3 * time.Minute))
	t, _ := registry.PodKind.Table([]*api.Pod{pod}, table.Options{Now: now})
	var cells []string
	for i, c := range t.ColumnDefinitions {
		if c.Priority == 0 {
			cells = append(cells, fmt.Sprintf("%s=%v", c.Name, t.Rows[0].Cells[i]))
		}
	}
	fmt.Println(strings.Join(cells, " "))

	// Short names resolve like kubectl's.
	d, _ := registry.Lookup("deploy")
	fmt.Println(d.Resource().APIVersion, d.Resource().Name, d.Subresources())
	// Output:
	// Always 30 IfNotPresent
	// invalid: spec.containers[1].image: Required value
	// <nil>
	// Pending Burstable false
	// true <nil>
	// Name=web Ready=0/1 Status=Pending Restarts=0 Age=3m
	// apps/v1 deployments [scale status]
}
