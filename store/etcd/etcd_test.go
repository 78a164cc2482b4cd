package etcd_test

import (
	"os"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(etcdtest.RunMain(m)) }

// newBackend returns a backend on the shared server's client; Close leaves
// the client open.
func newBackend(t *testing.T) store.Backend {
	b := etcd.New(etcdtest.Shared(t).Client())
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestBackendContract(t *testing.T) {
	storetest.RunBackend(t, newBackend)
}

func TestSideWriterContract(t *testing.T) { storetest.RunSideWriter(t, newBackend) }

func TestStoreContract(t *testing.T) {
	storetest.RunStore(t, newBackend)
}

func TestStoreContractWithWatchCache(t *testing.T) {
	storetest.RunStore(t, newBackend, storetest.StoreOptions{Workers: 8, Increments: 25, Options: []store.Option{store.WithWatchCache(store.WatchCacheConfig{Window: 64})}})
}
