package etcd_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
)

// TestNoSpace is issue 12 case 19: once etcd's database reaches its size
// quota ("database space exceeded"), writes fail with store.ErrNoSpace and
// a message saying what an operator must do; reads still work.
func TestNoSpace(t *testing.T) {
	srv, err := embedetcd.Start(t.Context(), embedetcd.Config{LogLevel: "off", UnsafeNoFsync: true, QuotaBackendBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	b := srv.Backend()
	value := bytes.Repeat([]byte("x"), 200<<10)
	rev, err := b.Create(t.Context(), "/k", value)
	if err != nil {
		t.Fatal(err)
	}
	// history of one key, never compacted, fills the quota
	var werr error
	for i := 0; i < 200 && werr == nil; i++ {
		var next int64
		if next, werr = b.Update(t.Context(), "/k", value, rev); werr == nil {
			rev = next
		}
	}
	if !errors.Is(werr, store.ErrNoSpace) || !strings.Contains(werr.Error(), "compact and defragment") {
		t.Fatalf("writes past the quota: %v, want ErrNoSpace with what to do", werr)
	}
	if _, err := b.Create(t.Context(), "/other", []byte("1")); !errors.Is(err, store.ErrNoSpace) {
		t.Fatalf("create past the quota: %v, want ErrNoSpace", err)
	}
	// etcd applies the write that crosses the quota and then answers
	// NOSPACE, so /k is at the last acknowledged write or at that one.
	if kv, err := b.Get(t.Context(), "/k"); err != nil || (kv.ModRevision != rev && kv.ModRevision != rev+1) {
		t.Fatalf("read past the quota: %v (revision %d), want the last write at %d or the crossing write at %d", err, kv.ModRevision, rev, rev+1)
	}
	if _, err := b.Get(t.Context(), "/other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a create refused for space was written: %v", err)
	}
}
