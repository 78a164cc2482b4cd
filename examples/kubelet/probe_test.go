package kubelet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/store"
)

// pumpPod waits until cond holds for the pod, moving the fake clock on by
// step between looks, so that probes and syncs happen only as the test
// lets time pass. It returns the pod and the fake time that passed.
func pumpPod(t *testing.T, cs *client.Clientset, clock *clockwork.FakeClock, step time.Duration, ns, name, what string, cond func(*api.Pod) bool) (*api.Pod, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var passed time.Duration
	for {
		p, err := cs.Pods().Get(ctx, ns, name)
		if err != nil && !isNotFound(err) {
			t.Fatal(err)
		}
		if err == nil && cond(p) {
			return p, passed
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod %s/%s: waiting for %s after %v of fake time; last: %+v", ns, name, what, passed, p.Status)
		case <-time.After(10 * time.Millisecond):
		}
		clock.Advance(step)
		passed += step
	}
}

func httpProbe(path string, period, failure int32) *api.Probe {
	return &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: path, Port: api.IntOrString{IntVal: 8080}}},
		PeriodSeconds: period, FailureThreshold: failure}
}

// TestProbes on the fake clock: readiness flips Ready both ways; a startup
// probe holds liveness off until it succeeds; a failing liveness probe
// restarts the container, with lastState.
func TestProbes(t *testing.T) {
	c := startCluster(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rt := fakeRuntime(t, fake.WithClock(clock))
	ctx := context.Background()
	runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", Clock: clock})

	ready := testContainer("main", "http :8080", "wait")
	ready.ReadinessProbe = httpProbe("/readyz", 1, 1)
	if _, err := c.cs.Pods().Create(ctx, newPod("ready", "node-1", ready)); err != nil {
		t.Fatal(err)
	}
	slow := testContainer("main", "write /tmp/not-ready x", "http :8080", "wait")
	slow.StartupProbe = httpProbe("/readyz", 1, 1000)
	slow.LivenessProbe = httpProbe("/code/500", 1, 2)
	if _, err := c.cs.Pods().Create(ctx, newPod("slow", "node-1", slow)); err != nil {
		t.Fatal(err)
	}
	isReady := func(want api.ConditionStatus) func(*api.Pod) bool {
		return func(p *api.Pod) bool { return condition(p, api.PodReady).Status == want }
	}
	pumpPod(t, c.cs, clock, 200*time.Millisecond, "default", "ready", "Ready", isReady(api.ConditionTrue))
	exec := func(pod string, script ...string) {
		t.Helper()
		sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
		for _, sb := range sbs {
			if sb.Name != pod {
				continue
			}
			cs, _ := rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sb.ID, State: runtime.ContainerRunning})
			for _, ct := range cs {
				if code, err := rt.Exec(ctx, ct.ID, runtime.ExecOptions{Cmd: append([]string{runtimetest.TestBinary}, script...)}); err != nil || code != 0 {
					t.Fatalf("exec %v in %s: %d %v", script, pod, code, err)
				}
				return
			}
		}
		t.Fatalf("no running container in %s", pod)
	}
	exec("ready", "write", "/tmp/not-ready", "x")
	p, _ := pumpPod(t, c.cs, clock, 200*time.Millisecond, "default", "ready", "not Ready", isReady(api.ConditionFalse))
	if cond := condition(p, api.PodReady); cond.Reason != "ContainersNotReady" || p.Status.ContainerStatuses[0].Ready || p.Status.ContainerStatuses[0].State.Running == nil {
		t.Fatalf("readiness failing: %+v %+v", cond, p.Status.ContainerStatuses[0])
	}
	exec("ready", "rm", "/tmp/not-ready")
	pumpPod(t, c.cs, clock, 200*time.Millisecond, "default", "ready", "Ready again", isReady(api.ConditionTrue))

	// The startup probe fails for a minute of fake time: the liveness probe
	// (which always fails) does not run, nothing restarts.
	p, _ = pumpPod(t, c.cs, clock, 500*time.Millisecond, "default", "slow", "running", func(p *api.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil
	})
	for range 120 {
		clock.Advance(500 * time.Millisecond)
		time.Sleep(time.Millisecond) // let the probers run; the fake clock is what moves
	}
	p, err := c.cs.Pods().Get(ctx, "default", "slow")
	if err != nil {
		t.Fatal(err)
	}
	if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.Started == nil || *cs.Started || cs.Ready {
		t.Fatalf("before the startup probe passes: %+v", cs)
	}
	probeEvents := func() (startup, liveness int) {
		evs, err := c.cs.Events().List(ctx, "default", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == "slow" && e.Reason == "Unhealthy" {
				switch {
				case strings.HasPrefix(e.Message, "Startup probe failed"):
					startup++
				case strings.HasPrefix(e.Message, "Liveness probe failed"):
					liveness++
				}
			}
		}
		return startup, liveness
	}
	if startup, liveness := probeEvents(); startup < 10 || liveness != 0 {
		t.Fatalf("while the startup probe fails: %d startup failures, %d liveness failures; want many and none", startup, liveness)
	}
	exec("slow", "rm", "/tmp/not-ready")
	p, _ = pumpPod(t, c.cs, clock, 500*time.Millisecond, "default", "slow", "a liveness restart", func(p *api.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil
	})
	if term := p.Status.ContainerStatuses[0].LastTerminationState.Terminated; term.ExitCode != 143 && term.ExitCode != 137 {
		t.Fatalf("lastState after the liveness kill: %+v", term)
	}
	evs, err := c.cs.Events().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range evs.Items {
		if e.InvolvedObject.Name == "slow" {
			seen[e.Reason] = true
		}
	}
	if !seen["Unhealthy"] || !seen["Killing"] {
		t.Fatalf("events of slow: %v", seen)
	}
}
