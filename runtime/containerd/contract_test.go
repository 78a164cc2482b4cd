package containerd_test

import (
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func TestContract(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, clock clockwork.Clock) runtime.Runtime {
			cfg := config(t)
			cfg.Clock = clock
			return newRuntime(t, cfg)
		},
		Leaks: func(t *testing.T, rt runtime.Runtime) []string {
			return leaks(t, rt.(*containerd.Runtime))
		},
		DialHostPort: dialHostPort,
	})
}
