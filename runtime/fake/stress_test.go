package fake_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestStress runs many pods' lifecycles at once. Invariants: every
// operation succeeds, no two live sandboxes share an IP, and nothing is left
// at the end.
func TestStress(t *testing.T) {
	ctx := context.Background()
	rt := newFake(t)
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	const workers, pods = 16, 25
	var mu sync.Mutex
	liveIPs := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				for p := 0; p < pods; p++ {
					name := fmt.Sprintf("w%d-p%d", w, p)
					sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: name, UID: name})
					if err != nil {
						return err
					}
					st, err := rt.SandboxStatus(ctx, sb)
					if err != nil {
						return err
					}
					mu.Lock()
					if other, dup := liveIPs[st.IP]; dup {
						mu.Unlock()
						return fmt.Errorf("sandboxes %s and %s share IP %s", other, sb, st.IP)
					}
					liveIPs[st.IP] = sb
					mu.Unlock()
					id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: runtimetest.TestImageName, Args: []string{"print", name, "wait"}})
					if err != nil {
						return err
					}
					if err := rt.StartContainer(ctx, id); err != nil {
						return err
					}
					res, err := runtime.ExecSync(ctx, rt, id, []string{runtimetest.TestBinary, "print", name})
					if err != nil || string(res.Stdout) != name+"\n" {
						return fmt.Errorf("exec in %s: %q, %v", name, res.Stdout, err)
					}
					if _, err := rt.ListContainers(ctx, runtime.ContainerFilter{Labels: map[string]string{runtime.LabelPodName: name}}); err != nil {
						return err
					}
					if err := rt.StopContainer(ctx, id, time.Second); err != nil {
						return err
					}
					if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerExited || st.ExitCode != 143 {
						return fmt.Errorf("%s after stop: %+v", name, st)
					}
					mu.Lock()
					delete(liveIPs, st.IP)
					mu.Unlock()
					if err := rt.RemoveSandbox(ctx, sb); err != nil {
						return err
					}
				}
				return nil
			}()
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if len(sbs) != 0 || len(cs) != 0 || len(rt.Running()) != 0 {
		t.Fatalf("left: %d sandboxes, %d containers, %d running", len(sbs), len(cs), len(rt.Running()))
	}
}
