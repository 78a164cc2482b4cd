package containerd_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// Run a pod with one container on a containerd daemon (here the private
// daemon this package's tests start).
func Example() {
	ctx := context.Background()
	rt, err := containerd.New(ctx, containerd.Config{
		Address:   daemon.Address,
		Namespace: "example-" + runID,
		StateDir:  stateDir,
		LogDir:    filepath.Join(stateDir, "example-logs"),
		Network:   containerd.NetworkConfig{Bridge: bridge, Subnet: subnet},
	})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		panic(err)
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		panic(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "hello", Namespace: "default", UID: "42"})
	if err != nil {
		panic(err)
	}
	defer rt.RemoveSandbox(ctx, sb)
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{
		Name: "main", Image: runtimetest.TestImageName, Args: []string{"print", "hello, world", "exit", "3"},
		Resources: runtime.Resources{MemoryLimit: 32 << 20},
	})
	if err != nil {
		panic(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		panic(err)
	}
	st, _ := rt.ContainerStatus(ctx, id)
	for st.State != runtime.ContainerExited {
		time.Sleep(10 * time.Millisecond)
		st, _ = rt.ContainerStatus(ctx, id)
	}
	logs, _ := rt.Logs(ctx, id, runtime.LogOptions{})
	out, _ := io.ReadAll(logs)
	fmt.Printf("%s: exit %d (%s), logged %q\n", st.State, st.ExitCode, st.Reason, out)
	// Output: Exited: exit 3 (Error), logged "hello, world\n"
}
