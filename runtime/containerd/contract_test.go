package containerd_test

import (
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func TestContract(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Runtime { return newRuntime(t, config(t)) },
		Leaks: func(t *testing.T, rt runtime.Runtime) []string {
			return leaks(t, rt.(*containerd.Runtime))
		},
		DialHostPort: dialHostPort,
	})
}
