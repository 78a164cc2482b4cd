package nodelifecycle_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodelifecycle"
)

// Tolerates is the matching rule between a pod's toleration and a taint.
func ExampleTolerates() {
	taint := api.Taint{Key: nodelifecycle.TaintUnreachable, Effect: api.TaintEffectNoExecute}
	byKey := api.Toleration{Key: nodelifecycle.TaintUnreachable, Operator: api.TolerationOpExists}
	other := api.Toleration{Key: nodelifecycle.TaintNotReady, Operator: api.TolerationOpExists}
	everything := api.Toleration{Operator: api.TolerationOpExists}
	fmt.Println(nodelifecycle.Tolerates(&byKey, &taint), nodelifecycle.Tolerates(&other, &taint), nodelifecycle.Tolerates(&everything, &taint))
	// Output:
	// true false true
}
