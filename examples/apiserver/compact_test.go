package apiserver

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

type tick struct {
	compacted int64
	err       error
}

// TestCompaction is issue 12 case 19: the apiserver compacts storage
// every CompactionInterval (Kubernetes: 5 minutes), up to the revision it
// saw one interval before, so history cannot fill etcd's quota while a
// client re-watching within an interval can still resume.
func TestCompaction(t *testing.T) {
	clock := clockwork.NewFakeClock()
	b := memory.New()
	t.Cleanup(func() { b.Close() })
	dir := t.TempDir()
	ticks := make(chan tick, 1)
	// The metrics scraper gets a clock of its own, so that the one sleeper
	// waited for below is the compaction ticker (with both on clock, the
	// scraper's ticker could be the one, and the first Advance then came
	// before the compactor's ticker existed: a hang, seen in CI).
	runServerWith(t, Config{DataDir: dir, Listen: "127.0.0.1:0", Backend: b, Clock: clock, MetricsClock: clockwork.NewFakeClock(),
		KubeconfigOut: filepath.Join(dir, "kubeconfig")},
		func(s *Server) { s.compactionTicked = func(rev int64, err error) { ticks <- tick{rev, err} } })
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil { // the compaction ticker
		t.Fatal(err)
	}
	write := func(v string) int64 {
		t.Helper()
		kv, err := b.Get(t.Context(), "/k")
		if errors.Is(err, store.ErrNotFound) {
			rev, err := b.Create(t.Context(), "/k", []byte(v))
			if err != nil {
				t.Fatal(err)
			}
			return rev
		}
		rev, err := b.Update(t.Context(), "/k", []byte(v), kv.ModRevision)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	readAt := func(rev int64) error {
		_, err := b.Range(t.Context(), "/k", store.RangeOptions{Revision: rev})
		return err
	}
	first := write("1")
	clock.Advance(DefaultCompactionInterval - time.Second)
	select {
	case tk := <-ticks:
		t.Fatalf("compaction before the interval: %+v", tk)
	default:
	}
	clock.Advance(time.Second)
	if tk := <-ticks; tk.compacted != 0 || tk.err != nil {
		t.Fatalf("first interval: %+v, want nothing compacted (no revision seen an interval ago)", tk)
	}
	seen, err := b.Revision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	second := write("2")
	clock.Advance(DefaultCompactionInterval)
	if tk := <-ticks; tk.compacted != seen || tk.err != nil {
		t.Fatalf("second interval: %+v, want compaction up to %d (the revision of one interval ago)", tk, seen)
	}
	if err := readAt(first - 1); !errors.Is(err, store.ErrGone) {
		t.Fatalf("read before the compacted revision: %v, want ErrGone", err)
	}
	if err := readAt(second); err != nil {
		t.Fatalf("read within the last interval: %v", err)
	}
	write("3")
	clock.Advance(DefaultCompactionInterval)
	if tk := <-ticks; tk.compacted <= seen || tk.err != nil {
		t.Fatalf("third interval: %+v, want compaction past %d", tk, seen)
	}
}

func TestCompactionDisabled(t *testing.T) {
	c := Config{DataDir: "x", CompactionInterval: -1}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := c.withDefaults(); d.CompactionInterval != -1 {
		t.Fatalf("negative interval became %v, want it kept (never compact)", d.CompactionInterval)
	}
}
