package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
)

// TestAgentBadFlags: an agent with bad flags says which, and writes
// nothing.
func TestAgentBadFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agent")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agent", "--server", "http://x:6443", "--token", "abcdef.0123456789abcdef", "--node-name", "n"}, `Server "http://x:6443" is not an https:// URL`},
		{[]string{"agent", "--server", "https://x:6443", "--token", "nope", "--node-name", "n"}, "Token: bootstrap: malformed token"},
		{[]string{"agent", "--server", "https://x:6443", "--token", "abcdef.0123456789abcdef", "--node-name", "n", "--ca-cert-hash", "md5:1"}, `CA hash "md5:1"`},
		{[]string{"agent", "--server", "https://x:6443", "--token", "abcdef.0123456789abcdef", "--node-name", "Bad_Name"}, `NodeName "Bad_Name"`},
	} {
		_, err := run(t, append(tc.args, "--data-dir", dir)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused agent made %s: %v", dir, err)
	}
}

// TestToken: create prints <id>.<secret>, list shows it, delete removes
// it; a bad usage is refused and creates nothing.
func TestToken(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	kcPath := filepath.Join(t.TempDir(), "admin.kubeconfig")
	if b, err := s.Kubeconfig(); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(kcPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	kc := []string{"--kubeconfig", kcPath}
	out, err := run(t, append([]string{"token", "create", "--ttl", "1h", "--description", "for-node-7"}, kc...)...)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`).MatchString(tok) {
		t.Fatalf("token create printed %q", out)
	}
	id := tok[:6]
	if out, err := run(t, append([]string{"token", "list"}, kc...)...); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "for-node-7") ||
		!strings.Contains(out, "authentication,signing") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if _, err := run(t, append([]string{"token", "create", "--usages", "everything"}, kc...)...); err == nil || !strings.Contains(err.Error(), `usage "everything"`) {
		t.Errorf("bad usage: %v", err)
	}
	if out, err := run(t, append([]string{"token", "delete", id}, kc...)...); err != nil || !strings.Contains(out, id) {
		t.Fatalf("token delete: %v %s", err, out)
	}
	if out, err := run(t, append([]string{"token", "list"}, kc...)...); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("list after delete (and after a refused create): %v\n%s", err, out)
	}
}
