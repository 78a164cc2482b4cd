package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestBadFlags: bad input is refused with a message naming it, and
// nothing is made.
func TestBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "up", "--nodes", "0", "--data-dir", dir}, "--nodes must be 1-250, got 0"},
		{[]string{"server", "--data-dir", dir, "--cluster-cidr", "nope"}, `ClusterCIDR "nope"`},
		{[]string{"cluster", "up", "extra"}, `unknown command "extra"`},
	} {
		_, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if out, err := run(t, "cluster", "status", "--data-dir", dir); err != nil || !strings.Contains(out, "no cluster in") {
		t.Errorf("status of nothing: %q %v", out, err)
	}
	if out, err := run(t, "cluster", "down", "--data-dir", dir); err != nil || !strings.Contains(out, "no cluster in") {
		t.Errorf("down of nothing: %q %v", out, err)
	}
}
