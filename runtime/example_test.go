package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

// A kubelet-style flow: ensure the image, run a sandbox, run a container in
// it, read its logs and status. The fake runtime stands in for containerd.
func Example() {
	ctx := context.Background()
	var rt runtime.Runtime = fake.New(fake.WithProgram("/hello", func(ctx context.Context, p *fake.Process) int {
		fmt.Fprintln(p.Stdout, "hello from", p.Args[1])
		return 0
	}))

	b := image.NewBuilder(image.Config{Name: "example.com/hello:v1", Entrypoint: []string{"/hello"}})
	if err := b.AddBytes("/hello", []byte("a static binary"), 0o755); err != nil {
		panic(err)
	}
	archive, err := b.Bytes()
	if err != nil {
		panic(err)
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		panic(err)
	}

	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "web", Namespace: "default", UID: "1234"})
	if err != nil {
		panic(err)
	}
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "app", Image: "example.com/hello:v1", Args: []string{"web"}})
	if err != nil {
		panic(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		panic(err)
	}
	for {
		st, _ := rt.ContainerStatus(ctx, id)
		if st.State == runtime.ContainerExited {
			fmt.Println(st.State, st.ExitCode, st.Reason)
			break
		}
		time.Sleep(time.Millisecond)
	}
	logs, _ := rt.Logs(ctx, id, runtime.LogOptions{})
	out, _ := io.ReadAll(logs)
	fmt.Print(string(out))
	// Output:
	// Exited 0 Completed
	// hello from web
}
