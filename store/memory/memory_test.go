package memory_test

import (
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func newBackend(t *testing.T) store.Backend {
	b := memory.New()
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestBackendContract(t *testing.T) {
	storetest.RunBackend(t, newBackend)
}

func TestStoreContract(t *testing.T) {
	storetest.RunStore(t, newBackend)
}
