package runtime_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

func TestRemoveOrphans(t *testing.T) {
	ctx := context.Background()
	rt := fake.New()
	b := image.NewBuilder(image.Config{Name: "x:v1", Entrypoint: []string{"/x"}})
	b.AddBytes("/x", nil, 0o755)
	archive, _ := b.Bytes()
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	run := func(name string) (string, string) {
		sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: name, UID: "uid-" + name})
		if err != nil {
			t.Fatal(err)
		}
		c, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: "x:v1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, c); err != nil {
			t.Fatal(err)
		}
		return sb, c
	}
	keptSB, keptC := run("kept")
	goneSB, goneC := run("gone")
	removed, err := runtime.RemoveOrphans(ctx, rt, func(s runtime.SandboxStatus) bool { return s.Labels[runtime.LabelPodUID] == "uid-kept" })
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != goneSB {
		t.Fatalf("removed %v, want only sandbox %s", removed, goneSB)
	}
	if _, err := rt.ContainerStatus(ctx, goneC); err == nil {
		t.Fatal("the orphan's container survived")
	}
	if st, err := rt.ContainerStatus(ctx, keptC); err != nil || st.State != runtime.ContainerRunning {
		t.Fatalf("kept container: %+v, %v", st, err)
	}
	if _, err := rt.SandboxStatus(ctx, keptSB); err != nil {
		t.Fatal(err)
	}
}
