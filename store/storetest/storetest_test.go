package storetest_test

import (
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

// The suites themselves run here against the memory backend with a small
// stress size; store/memory and store/etcd run them in full.
func TestSuitesOnMemory(t *testing.T) {
	newBackend := func(t *testing.T) store.Backend { return memory.New() }
	storetest.RunBackend(t, newBackend)
	storetest.RunStore(t, newBackend, storetest.StoreOptions{Workers: 4, Increments: 20})
}
