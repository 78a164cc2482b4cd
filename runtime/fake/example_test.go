package fake_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

// Simulate a server and make it crash with a hook.
func Example() {
	ctx := context.Background()
	rt := fake.New(fake.WithProgram("/server", fake.DefaultProgram))
	b := image.NewBuilder(image.Config{Name: "example.com/server:v1", Entrypoint: []string{"/server"}})
	b.AddBytes("/server", []byte("binary"), 0o755)
	archive, _ := b.Bytes()
	rt.ImportImage(ctx, bytes.NewReader(archive))

	sb, _ := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "web", UID: "1"})
	id, _ := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "server", Image: "example.com/server:v1"})
	rt.StartContainer(ctx, id)
	st, _ := rt.ContainerStatus(ctx, id)
	fmt.Println(st.State)

	rt.Exit(id, 2) // the process crashes
	st, _ = rt.ContainerStatus(ctx, id)
	fmt.Println(st.State, st.ExitCode, st.Reason)

	_, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "bad", Image: "example.com/server:v1", Command: []string{"/bin/sh"}})
	fmt.Println(err)
	// Output:
	// Running
	// Exited 2 Error
	// runtime: invalid argument: create container "bad": cannot create its process: /bin/sh: no such executable file in image example.com/server:v1
}
