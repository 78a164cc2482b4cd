package netns

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// netnsDir returns a fresh directory for Create and, at cleanup, undoes
// the bind mount Create makes of it (else the directory cannot be
// removed).
func netnsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		for {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				if !errors.Is(err, unix.EINVAL) {
					t.Errorf("unmount %s: %v", dir, err)
				}
				return
			}
		}
	})
	return dir
}

func TestCreateRemove(t *testing.T) {
	dir := netnsDir(t)
	p, err := Create(dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !IsNetNS(p) {
		t.Fatalf("%s is not a network namespace", p)
	}
	if _, err := Create(dir, "a"); err == nil {
		t.Fatal("second Create of the same name succeeded")
	}
	if !IsNetNS(p) {
		t.Fatal("failed second Create removed the first namespace")
	}
	if err := Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", p, err)
	}
	if err := Remove(p); err != nil {
		t.Fatalf("Remove of a missing namespace: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if _, err := Create(dir, bad); err == nil {
			t.Errorf("Create(%q) succeeded", bad)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestSurvivesIPNetnsAdd: what `ip netns add` does to the directory after
// Create pinned a namespace there (make it a shared mount, binding it on
// itself when that fails with EINVAL) neither hides the namespace nor
// stops Remove. Before Create made the directory a shared mount point
// itself, iproute2's bind mount hid every namespace pinned until then.
func TestSurvivesIPNetnsAdd(t *testing.T) {
	dir := netnsDir(t)
	p, err := Create(dir, "before")
	if err != nil {
		t.Fatal(err)
	}
	// iproute2's step, as in ip/ipnetns.c netns_add.
	if err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		if !errors.Is(err, unix.EINVAL) {
			t.Fatal(err)
		}
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
	}
	if !IsNetNS(p) {
		t.Fatalf("%s is hidden after the directory was made a shared mount", p)
	}
	q, err := Create(dir, "after")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, q} {
		if err := Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s still exists: %v", path, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind in %s: %v", filepath.Base(dir), ents)
	}
}
