package endpoint_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpoint"
)

// Subsets computes what the controller writes: here one Ready and one
// not-Ready pod behind a service port that targets port 8080.
func ExampleSubsets() {
	svc := &api.Service{}
	svc.Name = "web"
	svc.Spec.Ports = []api.ServicePort{{Name: "web", Port: 80, TargetPort: api.FromInt(8080)}}
	ss, _ := endpoint.Subsets(svc, []*api.Pod{newPod("a", "10.0.0.1", true), newPod("b", "10.0.0.2", false)})
	fmt.Println(summary(ss))
	// Output:
	// ready=[10.0.0.1] notready=[10.0.0.2] ports=[web:8080];
}
