package memory_test

import (
	"context"
	"errors"
	"fmt"
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

func TestSideWriterContract(t *testing.T) { storetest.RunSideWriter(t, newBackend) }

func TestStoreContract(t *testing.T) {
	storetest.RunStore(t, newBackend)
}

func TestStoreContractWithWatchCache(t *testing.T) {
	storetest.RunStore(t, newBackend, storetest.StoreOptions{Workers: 8, Increments: 50, Options: []store.Option{store.WithWatchCache(store.WatchCacheConfig{Window: 64})}})
}

func TestAutoCompaction(t *testing.T) {
	ctx := context.Background()
	b := memory.New(memory.WithRetainRevisions(10))
	first, err := b.Create(ctx, "/k", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	rev := first
	for i := 1; i <= 30; i++ {
		if rev, err = b.Update(ctx, "/k", []byte(fmt.Sprint(i)), rev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Range(ctx, "/", store.RangeOptions{Revision: first}); !errors.Is(err, store.ErrGone) {
		t.Fatalf("Range at %d after 30 more writes with 10 retained: err = %v, want ErrGone", first, err)
	}
	res, err := b.Range(ctx, "/", store.RangeOptions{Revision: rev - 10})
	if err != nil || string(res.KVs[0].Value) != "20" {
		t.Fatalf("Range at a retained revision: %+v, %v", res, err)
	}
	keep := memory.New(memory.WithRetainRevisions(0))
	r0, _ := keep.Create(ctx, "/k", nil)
	r := r0
	for range 300 {
		r, _ = keep.Update(ctx, "/k", []byte("x"), r)
	}
	if _, err := keep.Range(ctx, "/", store.RangeOptions{Revision: r0}); err != nil {
		t.Fatalf("with retention off, old revisions must stay: %v", err)
	}
}

// BenchmarkUpdate10kKeys: heartbeats of 10,000 simulated nodes.
func BenchmarkUpdate10kKeys(b *testing.B) {
	ctx := context.Background()
	be := memory.New()
	const n = 10_000
	revs := make([]int64, n)
	for i := range n {
		revs[i], _ = be.Create(ctx, fmt.Sprintf("/nodes/node-%05d", i), []byte("{}"))
	}
	val := make([]byte, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % n
		rev, err := be.Update(ctx, fmt.Sprintf("/nodes/node-%05d", k), val, revs[k])
		if err != nil {
			b.Fatal(err)
		}
		revs[k] = rev
	}
}
