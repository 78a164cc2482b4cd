package netns

import (
	"os"
	"testing"
)

func TestCreateRemove(t *testing.T) {
	dir := t.TempDir()
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
