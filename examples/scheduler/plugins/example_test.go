package plugins_test

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
)

// A node tainted for GPUs rejects a pod without the toleration, with
// Kubernetes' message.
func Example() {
	node := &api.Node{}
	node.Name = "gpu-1"
	node.Spec.Taints = []api.Taint{{Key: "dedicated", Value: "gpu", Effect: api.TaintEffectNoSchedule}}
	pod := &api.Pod{}
	st := plugins.TaintToleration{}.Filter(context.Background(), nil, framework.NewPodInfo(pod), framework.NewNodeInfo(node))
	fmt.Println(st)
	// Output: UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}
}
