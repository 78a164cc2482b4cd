package apistaging_test

import (
	"encoding/json"
	"fmt"

	api "github.com/setpoint-dev/setpoint/examples/apistaging/api"
	"github.com/setpoint-dev/setpoint/examples/apistaging/api/apps"
)

// Example builds a Deployment with the generated types and prints it in
// JSON; its protobuf form decodes back to the same replicas.
func Example() {
	replicas := int32(3)
	d := &apps.Deployment{Spec: apps.DeploymentSpec{
		Replicas: &replicas,
		Template: api.PodTemplateSpec{Spec: api.PodSpec{
			Containers: []api.Container{{Name: "web", Image: "nginx:1.27", ImagePullPolicy: api.PullIfNotPresent}},
		}},
	}}
	d.Name = "web"
	j, _ := json.Marshal(d.Spec.Template.Spec.Containers[0])
	fmt.Println(string(j))
	b, err := d.Marshal()
	if err != nil {
		fmt.Println(err)
		return
	}
	var back apps.Deployment
	if err := back.Unmarshal(b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(back.Name, *back.Spec.Replicas)
	// Output:
	// {"name":"web","image":"nginx:1.27","resources":{},"imagePullPolicy":"IfNotPresent"}
	// web 3
}
