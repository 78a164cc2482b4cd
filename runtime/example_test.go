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

// Probe a running container the way a kubelet's exec probe does, and read
// its log (following it until a byte limit).
func ExampleExecSync() {
	ctx := context.Background()
	rt := fake.New(
		fake.WithProgram("/server", func(ctx context.Context, p *fake.Process) int {
			fmt.Fprintln(p.Stdout, "serving")
			return fake.DefaultProgram(ctx, p)
		}),
		fake.WithProgram("/check", func(ctx context.Context, p *fake.Process) int {
			fmt.Fprintln(p.Stdout, "healthy as", p.Cred.UID)
			return 0
		}),
	)
	b := image.NewBuilder(image.Config{Name: "example.com/server:v1", Entrypoint: []string{"/server"}})
	b.AddBytes("/server", []byte("binary"), 0o755)
	b.AddBytes("/check", []byte("binary"), 0o755)
	archive, _ := b.Bytes()
	rt.ImportImage(ctx, bytes.NewReader(archive))

	sb, _ := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "web", UID: "1"})
	uid := int64(1000)
	id, _ := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "server", Image: "example.com/server:v1",
		Security: runtime.SecurityContext{RunAsUser: &uid, RunAsNonRoot: true}})
	rt.StartContainer(ctx, id)

	res, err := runtime.ExecSync(ctx, rt, id, []string{"/check"})
	fmt.Printf("%d %q %v\n", res.ExitCode, res.Stdout, err)
	logs, _ := rt.Logs(ctx, id, runtime.LogOptions{Follow: true, LimitBytes: 5})
	out, _ := io.ReadAll(logs)
	fmt.Printf("%q\n", out)
	// Output:
	// 0 "healthy as 1000\n" <nil>
	// "servi"
}
