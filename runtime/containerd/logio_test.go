package containerd

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShimLog: the shim gets the log file under two spellings, so that it
// opens one descriptor per stream; the file exists before the task does.
func TestShimLog(t *testing.T) {
	if _, err := shimLog("relative/0.log"); err == nil {
		t.Fatal("shimLog accepted a relative path")
	}
	if _, err := shimLog(filepath.Join(t.TempDir(), "missing-dir", "0.log")); err == nil {
		t.Fatal("shimLog succeeded in a missing directory")
	}
	path := filepath.Join(t.TempDir(), "0.log")
	create, err := shimLog(path)
	if err != nil {
		t.Fatal(err)
	}
	io, err := create("ignored")
	if err != nil {
		t.Fatal(err)
	}
	cfg := io.Config()
	if cfg.Stdout == cfg.Stderr || cfg.Stdin != "" || cfg.Terminal {
		t.Fatalf("config %+v: want distinct stdout and stderr paths, no stdin, no terminal", cfg)
	}
	out, err := os.Stat(cfg.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.Stat(cfg.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(out, errf) || filepath.Clean(cfg.Stdout) != path || out.Size() != 0 || !out.Mode().IsRegular() {
		t.Fatalf("stdout %s and stderr %s: want the one empty regular file %s", cfg.Stdout, cfg.Stderr, path)
	}
	io.Cancel()
	io.Wait()
	if err := io.Close(); err != nil {
		t.Fatal(err)
	}
}
