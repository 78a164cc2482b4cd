package containerd_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// taskGone fails t unless the container's task has been deleted.
func taskGone(ctx context.Context, t *testing.T, rt *containerd.Runtime, id, when string) {
	t.Helper()
	_, err := rt.Client().TaskService().Get(namespaces.WithNamespace(ctx, rt.Namespace()), &tasks.GetRequest{ContainerID: id})
	if !errdefs.IsNotFound(errgrpc.ToNative(err)) {
		t.Fatalf("%s: task of %s: %v, want it deleted (reaped)", when, id, err)
	}
}

// TestReapedOnceExited: a container is reported Exited only once its task
// is deleted, which is when the shim has finished its log; the exit is
// kept in labels, and every operation copes with the task being gone.
func TestReapedOnceExited(t *testing.T) {
	ctx, rt := setup(t, config(t))
	sb := runSandbox(ctx, t, rt, "reap")
	id := runContainer(ctx, t, rt, sb.ID, "job", "print", "out", "eprint", "err", "exit", "5")
	st := runtimetest.WaitState(ctx, t, rt, id, runtime.ContainerExited)
	taskGone(ctx, t, rt, id, "reported Exited")
	if st.ExitCode != 5 || st.Reason != runtime.ReasonError || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("status = %+v, want exit 5 finishing after it started", st)
	}
	lines := strings.Split(runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{}), "\n")
	sort.Strings(lines)
	if strings.Join(lines, ",") != ",err,out" {
		t.Fatalf("log lines %q, want out and err", lines)
	}
	// The status no longer comes from the task.
	again, err := rt.ContainerStatus(ctx, id)
	if err != nil || again.State != runtime.ContainerExited || again.ExitCode != 5 || !again.FinishedAt.Equal(st.FinishedAt) || !again.StartedAt.Equal(st.StartedAt) {
		t.Fatalf("status again = %+v, %v; want %+v", again, err, st)
	}
	listed, err := rt.ListContainers(ctx, runtime.ContainerFilter{State: runtime.ContainerExited})
	if err != nil || len(listed) != 1 || listed[0].ID != id || listed[0].ExitCode != 5 {
		t.Fatalf("ListContainers(Exited) = %+v, %v", listed, err)
	}
	if err := rt.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer of a reaped container: %v", err)
	}
	if err := rt.StartContainer(ctx, id); !errors.Is(err, runtime.ErrFailedPrecondition) || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("StartContainer of a reaped container: %v, want ErrFailedPrecondition saying it exited", err)
	}
	if _, err := runtime.ExecSync(ctx, rt, id, []string{runtimetest.TestBinary}); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Exec in a reaped container: %v", err)
	}
	if _, err := rt.Stats(ctx, id); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Stats of a reaped container: %v", err)
	}
	if got := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{Follow: true, Tail: 1}); got != "err\n" && got != "out\n" {
		t.Fatalf("following a reaped container's log: %q", got)
	}
	// StopContainer reaps what it stops.
	long := runContainer(ctx, t, rt, sb.ID, "long", "print", "ready", "wait")
	runtimetest.WaitState(ctx, t, rt, long, runtime.ContainerRunning)
	if err := rt.StopContainer(ctx, long, 0); err != nil {
		t.Fatal(err)
	}
	taskGone(ctx, t, rt, long, "after StopContainer")
	if err := rt.RemoveSandbox(ctx, sb.ID); err != nil {
		t.Fatal(err)
	}
	if l := leaks(t, rt); len(l) > 0 {
		t.Fatalf("left behind: %v", l)
	}
}

// TestReapResumes: what a runtime that died left half done is finished by
// the next one: a process that exited while no runtime looked, and a reap
// cut short after recording the exit (whose record is kept).
func TestReapResumes(t *testing.T) {
	cfg := config(t)
	ctx, first := setup(t, cfg)
	sb := runSandbox(ctx, t, first, "resume")
	unseen := runContainer(ctx, t, first, sb.ID, "unseen", "print", "a", "exit", "3")
	halfway := runContainer(ctx, t, first, sb.ID, "halfway", "print", "b", "exit", "4")
	nctx := namespaces.WithNamespace(ctx, first.Namespace())
	for _, id := range []string{unseen, halfway} {
		ctr, err := first.Client().LoadContainer(nctx, id)
		if err != nil {
			t.Fatal(err)
		}
		task, err := ctr.Task(nctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		exited, err := task.Wait(nctx)
		if err != nil {
			t.Fatal(err)
		}
		<-exited
	}
	recorded := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	labels := map[string]string{containerd.LabelExitCode: "4", containerd.LabelFinished: recorded.Format(time.RFC3339Nano)}
	if _, err := first.Client().ContainerService().Update(nctx, containers.Container{ID: halfway, Labels: labels},
		"labels."+containerd.LabelExitCode, "labels."+containerd.LabelFinished); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newRuntime(t, cfg)
	st, err := second.ContainerStatus(ctx, unseen)
	if err != nil || st.State != runtime.ContainerExited || st.ExitCode != 3 || st.FinishedAt.IsZero() {
		t.Fatalf("container that exited unseen: %+v, %v; want Exited 3", st, err)
	}
	taskGone(ctx, t, second, unseen, "unseen exit, reported")
	l, err := second.ListContainers(ctx, runtime.ContainerFilter{ID: halfway})
	if err != nil || len(l) != 1 || l[0].State != runtime.ContainerExited || l[0].ExitCode != 4 || !l[0].FinishedAt.Equal(recorded) {
		t.Fatalf("container reaped halfway: %+v, %v; want Exited 4 at %v", l, err, recorded)
	}
	taskGone(ctx, t, second, halfway, "reap finished")
	if got := runtimetest.ReadLogs(ctx, t, second, halfway, runtime.LogOptions{}); got != "b\n" {
		t.Fatalf("logs = %q", got)
	}
}
