package fake_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// testbin simulates the test program by interpreting the same script.
var testbin = runtimetest.FakeTestBinary

func newFake(t *testing.T, opts ...fake.Option) *fake.Runtime {
	rt := fake.New(append([]fake.Option{fake.WithProgram(runtimetest.TestBinary, testbin)}, opts...)...)
	t.Cleanup(func() {
		ctx := context.Background()
		sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
		for _, s := range sbs {
			rt.RemoveSandbox(ctx, s.ID)
		}
	})
	return rt
}

func TestContract(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, clock clockwork.Clock) runtime.Runtime { return newFake(t, fake.WithClock(clock)) },
		Leaks: func(t *testing.T, rt runtime.Runtime) []string {
			return rt.(*fake.Runtime).Leftovers()
		},
		DialHostPort: func(ctx context.Context, rt runtime.Runtime, port uint16) (net.Conn, error) {
			return rt.(*fake.Runtime).DialHostPort(ctx, port)
		},
	})
}

func TestHooks(t *testing.T) {
	ctx := context.Background()
	rt := newFake(t)
	if _, err := rt.ImportImage(ctx, bytesReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "p", UID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string) string {
		id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: name, Image: runtimetest.TestImageName, Args: []string{"wait"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	crash := run("crash")
	if err := rt.Exit(crash, 42); err != nil {
		t.Fatal(err)
	}
	if st := runtimetest.WaitState(ctx, t, rt, crash, runtime.ContainerExited); st.ExitCode != 42 || st.Reason != runtime.ReasonError {
		t.Fatalf("after Exit(42): %+v", st)
	}
	hung := run("hung")
	if err := rt.Hang(hung); err != nil {
		t.Fatal(err)
	}
	if err := rt.StopContainer(ctx, hung, 1); err != nil {
		t.Fatal(err)
	}
	if st, _ := rt.ContainerStatus(ctx, hung); st.ExitCode != 137 {
		t.Fatalf("hung container exit %d, want 137", st.ExitCode)
	}
	boom := errors.New("injected")
	rt.InjectError("StartContainer", boom)
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "inj", Image: runtimetest.TestImageName, Args: []string{"wait"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); !errors.Is(err, boom) {
		t.Fatalf("StartContainer with injected error: %v", err)
	}
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerCreated {
		t.Fatalf("injected failure changed state to %s", st.State)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("second StartContainer: %v", err)
	}
	// Going over the memory limit gets the container OOM-killed.
	oom, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "oom", Image: runtimetest.TestImageName,
		Args: []string{"alloc", "64", "wait"}, Resources: runtime.Resources{MemoryLimit: 32 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, oom); err != nil {
		t.Fatal(err)
	}
	if st := runtimetest.WaitState(ctx, t, rt, oom, runtime.ContainerExited); st.Reason != runtime.ReasonOOMKilled || st.ExitCode != 137 {
		t.Fatalf("over the limit: %+v, want OOMKilled 137", st)
	}
}
