package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSimBadFlags: bad input is refused with a message naming the flag,
// and nothing is made.
func TestSimBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sim")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "0"}, "--nodes must be at least 1"},
		{[]string{"--pods-per-node", "111"}, "--pods-per-node must be 0-110"},
		{[]string{"--server", "https://127.0.0.1:1"}, "--server needs --kubeconfig"},
		{[]string{"--control-plane", "elsewhere"}, `--control-plane must be in-process or process, got "elsewhere"`},
		{[]string{"--control-plane-pid", "1"}, "--control-plane-pid goes with --server"},
		{[]string{"--cpu-per-container", "lots"}, `--cpu-per-container "lots"`},
		{[]string{"--memory-per-container", "-1Mi"}, `--memory-per-container "-1Mi"`},
		{[]string{"--start-latency", "-1s"}, "must not be negative"},
	} {
		_, err := run(t, append([]string{"sim", "--data-dir", dir}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("refused flags made %s: %v", dir, err)
	}
}

// TestSimRuns: `setpoint sim --exit` with an in-process control plane
// runs 3 nodes and 6 pods to Running, prints the figures and writes the
// report and its plot.
func TestSimRuns(t *testing.T) {
	dir := t.TempDir()
	reportDir := filepath.Join(dir, "report")
	out, err := run(t, "sim", "--nodes", "3", "--pods-per-node", "2", "--namespaces", "2", "--replicas", "4", "--start-latency", "10ms",
		"--data-dir", filepath.Join(dir, "data"), "--report", reportDir, "--exit")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"pods Running                  6\n", "seconds to all Running", "p99 mutating request latency", "control plane peak RSS"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	txt, err := os.ReadFile(filepath.Join(reportDir, "report.txt"))
	if err != nil || !strings.Contains(string(txt), "pods Running                  6\n") {
		t.Errorf("report.txt: %v\n%s", err, txt)
	}
	f, err := os.Open(filepath.Join(reportDir, "cpu-mem.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("cpu-mem.png: %v", err)
	}
}
