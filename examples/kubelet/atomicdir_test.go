package kubelet

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
)

func TestWriteAtomic(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "vol")
	v1 := map[string]payloadFile{"a": {data: []byte("1"), mode: 0o644}, "sub/b": {data: []byte("b1"), mode: 0o600}}
	changed, err := writeAtomic(dir, v1, -1)
	if err != nil || !changed {
		t.Fatalf("first write: changed %v, %v", changed, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "sub", "b")); string(b) != "b1" {
		t.Fatalf("sub/b = %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "sub", "b")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("sub/b mode %v", fi.Mode())
	}
	if changed, err := writeAtomic(dir, v1, -1); err != nil || changed {
		t.Fatalf("same content again: changed %v, %v", changed, err)
	}
	// A new version drops sub/ and adds c.
	v2 := map[string]payloadFile{"a": {data: []byte("2"), mode: 0o644}, "c": {data: []byte("c"), mode: 0o644}}
	if changed, err := writeAtomic(dir, v2, -1); err != nil || !changed {
		t.Fatalf("second write: changed %v, %v", changed, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 4 || !strings.Contains(strings.Join(names, " "), dataLink) { // ..data, ..ts.N, a, c
		t.Fatalf("dir holds %v", names)
	}
	if _, err := os.Lstat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Fatalf("sub still there: %v", err)
	}
}

// TestWriteAtomicBadInput: a path that escapes, or is not clean, is
// refused before anything is written.
func TestWriteAtomicBadInput(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "/abs", "../x", "a/../b", "..data", "a//b", "a/..hidden"} {
		dir := filepath.Join(t.TempDir(), "vol")
		_, err := writeAtomic(dir, map[string]payloadFile{p: {data: []byte("x"), mode: 0o644}}, -1)
		if err == nil {
			t.Errorf("path %q accepted", p)
		}
		if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
			t.Errorf("path %q: the volume directory was made", p)
		}
	}
}

// TestWriteAtomicStress: readers that resolve ..data once always see one
// version of every file, never a mix, while a writer swaps versions.
func TestWriteAtomicStress(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "vol")
	version := func(n byte) map[string]payloadFile {
		return map[string]payloadFile{"a": {data: []byte{n}, mode: 0o644}, "b/c": {data: bytes.Repeat([]byte{n}, 64), mode: 0o644}}
	}
	if _, err := writeAtomic(dir, version('0'), -1); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads, mixed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				target, err := os.Readlink(filepath.Join(dir, dataLink))
				if err != nil {
					t.Error(err)
					return
				}
				a, err1 := os.ReadFile(filepath.Join(dir, target, "a"))
				c, err2 := os.ReadFile(filepath.Join(dir, target, "b", "c"))
				if err1 != nil || err2 != nil {
					continue // that version was removed meanwhile
				}
				reads.Add(1)
				if len(c) != 64 || c[0] != a[0] || c[63] != a[0] {
					mixed.Add(1)
				}
			}
		})
	}
	for i := range 300 {
		if _, err := writeAtomic(dir, version(byte('0'+i%10)), -1); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if mixed.Load() != 0 {
		t.Fatalf("%d of %d reads saw a mix of versions", mixed.Load(), reads.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("no read completed")
	}
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add("nameserver 10.0.0.1\nsearch a.local b.local\noptions ndots:5 edns0\n")
	f.Add("# comment\n; other\ndomain x\nnameserver ::1\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		d := parseResolvConf([]byte(s))
		for _, l := range [][]string{d.Servers, d.Searches, d.Options} {
			for _, v := range l {
				if v == "" || strings.ContainsAny(v, " \t\n") {
					t.Fatalf("field %q from %q", v, s)
				}
			}
		}
		// Written and parsed again, the configuration is the same.
		again := parseResolvConf(resolvConf(d))
		if strings.Join(again.Servers, ",") != strings.Join(d.Servers, ",") || strings.Join(again.Options, ",") != strings.Join(d.Options, ",") {
			t.Fatalf("round trip of %+v gave %+v", d, again)
		}
	})
}

// resolvConf writes d as a resolv.conf (for the round trip).
func resolvConf(d runtime.DNSConfig) []byte {
	var b strings.Builder
	if len(d.Searches) > 0 {
		b.WriteString("search " + strings.Join(d.Searches, " ") + "\n")
	}
	for _, s := range d.Servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(d.Options) > 0 {
		b.WriteString("options " + strings.Join(d.Options, " ") + "\n")
	}
	return []byte(b.String())
}
