package fake_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// manualClock moves only when told to.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *manualClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// TestGraceOnInjectedClock: a hung container is killed exactly when the
// injected clock passes the grace period, with no real waiting.
func TestGraceOnInjectedClock(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	rt := fake.New(fake.WithClock(clock), fake.WithProgram(runtimetest.TestBinary, testbin))
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	sb, _ := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "p", UID: "u"})
	id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: runtimetest.TestImageName, Args: []string{"ignore-term", "wait"}})
	if err != nil {
		t.Fatal(err)
	}
	rt.StartContainer(ctx, id)
	stopped := make(chan error, 1)
	go func() { stopped <- rt.StopContainer(ctx, id, time.Hour) }()
	for clock.pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	clock.advance(59 * time.Minute)
	if st, _ := rt.ContainerStatus(ctx, id); st.State != runtime.ContainerRunning {
		t.Fatalf("killed before the grace period ended: %+v", st)
	}
	clock.advance(time.Minute)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	st, _ := rt.ContainerStatus(ctx, id)
	if st.ExitCode != 137 || !st.FinishedAt.Equal(clock.Now()) || !st.StartedAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("after grace: %+v", st)
	}
}
