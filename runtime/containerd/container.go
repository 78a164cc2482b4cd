package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
)

// CreateContainer creates the container and its process (runc create), so
// that a command the image cannot run fails here. On failure the container,
// its snapshot, its FIFOs, its log file and the tmpfs volumes it mounted
// first are removed.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (_ string, err error) {
	defer r.observe("create_container", time.Now(), &err)
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	ctx = r.ctx(ctx)
	// Hold the sandbox so that StopSandbox cannot slip in between the
	// readiness check and the creation. (Lock order: sandbox, container.)
	if sandboxID != "" {
		defer r.locks.lock(sandboxID)()
	}
	rec, err := r.sandboxRecord(ctx, sandboxID)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	sb := sandboxStatus(rec)
	if sb.State != runtime.SandboxReady {
		return "", fmt.Errorf("%w: create container %q: sandbox %s is %s", runtime.ErrFailedPrecondition, cfg.Name, sandboxID, sb.State)
	}
	id := runtime.ContainerID(sandboxID, cfg)
	defer r.locks.lock(id)()
	img, err := r.image(ctx, cfg.Image)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	if err := cfg.CheckHost(); err != nil {
		return "", fmt.Errorf("create container %q in sandbox %s: %w", cfg.Name, sandboxID, err)
	}
	icfg, err := r.config(ctx, img)
	if err != nil {
		return "", err
	}
	ispec := icfg.spec
	if err := cfg.Security.CheckNonRoot(cfg.Image, ispec.Config.User); err != nil {
		return "", fmt.Errorf("create container %q in sandbox %s: %w", cfg.Name, sandboxID, err)
	}
	// Reject a missing command before touching anything.
	if len(cfg.Command) == 0 && len(cfg.Args) == 0 && len(ispec.Config.Entrypoint)+len(ispec.Config.Cmd) == 0 {
		return "", &runtime.FieldError{Field: "command", Reason: "is required: image " + cfg.Image + " has no entrypoint or cmd"}
	}
	logPath := filepath.Join(r.podLogDir(sb), cfg.Name, strconv.FormatUint(uint64(cfg.Attempt), 10)+".log")
	labels := runtime.ContainerLabels(sb, cfg)
	labels[labelKind] = kindContainer
	labels[labelLogPath] = logPath
	labels[labelImageID] = icfg.id
	if cfg.TTY {
		labels[labelTTY] = "true"
	}
	switch {
	case cfg.StdinOnce:
		labels[labelStdin] = "once"
	case cfg.Stdin:
		labels[labelStdin] = "true"
	}

	specOpts := []oci.SpecOpts{oci.WithImageConfigArgs(img, cfg.Args)}
	if len(cfg.Command) > 0 {
		specOpts = append(specOpts, oci.WithProcessArgs(append(append([]string{}, cfg.Command...), cfg.Args...)...))
	}
	if len(cfg.Env) > 0 {
		specOpts = append(specOpts, oci.WithEnv(cfg.Env))
	}
	if cfg.WorkingDir != "" {
		specOpts = append(specOpts, oci.WithProcessCwd(cfg.WorkingDir))
	}
	specOpts = append(specOpts, r.sandboxSpecOpts(rec, cfg.Mounts)...)
	mounts, undoMounts, err := r.mountOpts(sandboxID, cfg.Mounts)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	specOpts = append(specOpts, cgroupMount, mounts)
	specOpts = append(specOpts, resourceOpts(cfg.Resources)...)
	specOpts = append(specOpts, securityOpts(cfg.Security)...)
	if cfg.TTY {
		specOpts = append(specOpts, oci.WithTTY)
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		undoMounts()
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	cctx := context.WithoutCancel(ctx)
	removeLog := func() {
		os.Remove(logPath)
		os.Remove(filepath.Dir(logPath)) // only if empty
	}
	ctr, err := r.client.NewContainer(ctx, id,
		client.WithImageName(img.Name()),
		client.WithSnapshotter(r.cfg.Snapshotter),
		client.WithNewSnapshot(id, img),
		client.WithContainerLabels(labels),
		client.WithNewSpec(specOpts...),
	)
	if err != nil {
		undoMounts()
		if errdefs.IsAlreadyExists(err) {
			// The log and FIFOs are the existing container's.
			return "", fmt.Errorf("%w: container %q (attempt %d) in sandbox %s", runtime.ErrAlreadyExists, cfg.Name, cfg.Attempt, sandboxID)
		}
		removeLog()
		// NewContainer removes what it made under its lease; the snapshot is
		// ours to remove if it got that far.
		r.client.SnapshotService(r.cfg.Snapshotter).Remove(cctx, id)
		if errdefs.IsUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "", convert(err, fmt.Sprintf("create container %q", cfg.Name))
		}
		return "", fmt.Errorf("%w: create container %q: %v", runtime.ErrInvalid, cfg.Name, err)
	}
	ioCfg, cp, release, cleanup, err := r.makeFIFOs(id, labels)
	if err != nil {
		ctr.Delete(cctx, client.WithSnapshotCleanup)
		undoMounts()
		removeLog()
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	if _, err := ctr.NewTask(ctx, func(string) (cio.IO, error) { return fifoIO{ioCfg}, nil }); err != nil {
		cleanup()
		ctr.Delete(cctx, client.WithSnapshotCleanup)
		undoMounts()
		removeLog()
		if errdefs.IsUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return "", convert(err, fmt.Sprintf("create container %q", cfg.Name))
		}
		return "", fmt.Errorf("%w: create container %q: cannot create its process: %v", runtime.ErrInvalid, cfg.Name, err)
	}
	release()
	cp.start()
	r.copiersMu.Lock()
	r.copiers[id] = cp
	r.copiersMu.Unlock()
	return id, nil
}

// record reads a container of this runtime from the container store.
func (r *Runtime) record(ctx context.Context, id string) (containers.Container, error) {
	if id == "" {
		return containers.Container{}, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	c, err := r.client.ContainerService().Get(ctx, id)
	if err != nil || c.Labels[labelKind] != kindContainer {
		if err == nil || errdefs.IsNotFound(err) {
			return containers.Container{}, fmt.Errorf("%w: container %s", runtime.ErrNotFound, id)
		}
		return containers.Container{}, convert(err, "container "+id)
	}
	return c, nil
}

// containerRecord loads a container of this runtime.
func (r *Runtime) containerRecord(ctx context.Context, id string) (client.Container, containers.Container, error) {
	if id == "" {
		return nil, containers.Container{}, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	ctr, err := r.client.LoadContainer(ctx, id)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return nil, containers.Container{}, fmt.Errorf("%w: container %s", runtime.ErrNotFound, id)
		}
		return nil, containers.Container{}, convert(err, "container "+id)
	}
	info, err := ctr.Info(ctx, client.WithoutRefreshedMetadata)
	if err != nil {
		return nil, containers.Container{}, convert(err, "container "+id)
	}
	if info.Labels[labelKind] != kindContainer {
		return nil, containers.Container{}, fmt.Errorf("%w: container %s", runtime.ErrNotFound, id)
	}
	return ctr, info, nil
}

// StartContainer starts the created process.
func (r *Runtime) StartContainer(ctx context.Context, id string) (err error) {
	defer r.observe("start_container", time.Now(), &err)
	ctx = r.ctx(ctx)
	defer r.locks.lock(id)()
	if id == "" {
		return &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	// Taken before Start: a short-lived process may exit before Start
	// returns, and StartedAt must not come after FinishedAt.
	started := time.Now().UTC()
	if _, err := r.client.TaskService().Start(ctx, &tasks.StartRequest{ContainerID: id}); err != nil {
		return r.startError(ctx, id, errgrpc.ToNative(err))
	}
	if err := r.setLabels(ctx, id, map[string]string{labelStarted: started.Format(time.RFC3339Nano)}); err != nil {
		return fmt.Errorf("start container %s: record start time: %w", id, err)
	}
	return nil
}

// startError explains why the task of container id did not start (with
// err): the container is missing, not created, or has exited.
func (r *Runtime) startError(ctx context.Context, id string, err error) error {
	rec, rerr := r.record(ctx, id)
	if rerr != nil {
		return rerr
	}
	got, gerr := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: id})
	if gerr != nil {
		gerr = errgrpc.ToNative(gerr)
		if errdefs.IsNotFound(gerr) {
			if rec.Labels[labelExitCode] != "" {
				return fmt.Errorf("%w: start container %s: it has exited, it is not created", runtime.ErrFailedPrecondition, id)
			}
			return fmt.Errorf("%w: start container %s: it has no process", runtime.ErrFailedPrecondition, id)
		}
		return convert(gerr, "start container "+id)
	}
	if st := strings.ToLower(got.GetProcess().GetStatus().String()); st != "created" {
		return fmt.Errorf("%w: start container %s: it is %s, not created", runtime.ErrFailedPrecondition, id, st)
	}
	return convert(err, "start container "+id)
}

// StopContainer sends SIGTERM, waits up to grace, then SIGKILLs every
// process of the container and waits for it to exit. On return the
// container is Exited and its log complete.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) (err error) {
	defer r.observe("stop_container", time.Now(), &err)
	ctx = r.ctx(ctx)
	defer r.locks.lock(id)()
	ctr, _, err := r.containerRecord(ctx, id)
	if err != nil {
		return err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil // reaped: it has exited
	}
	if err != nil {
		return convert(err, "stop container "+id)
	}
	if err := stopTask(ctx, r.cfg.Clock, task, grace); err != nil {
		return err
	}
	// So that the container is Exited, with its log complete, on return.
	_, err = r.reapLocked(ctx, id)
	return err
}

// stopTask stops task: SIGTERM, then SIGKILL once grace has passed on clk
// (at once when grace is 0).
func stopTask(ctx context.Context, clk clockwork.Clock, task client.Task, grace time.Duration) error {
	st, err := task.Status(ctx)
	if err != nil {
		return convert(err, "stop container "+task.ID())
	}
	if st.Status == client.Stopped {
		return nil
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return convert(err, "stop container "+task.ID())
	}
	if st.Status == client.Running && grace > 0 {
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
			return convert(err, "stop container "+task.ID())
		}
		t := clk.NewTimer(grace)
		defer t.Stop()
		select {
		case <-exited:
			return nil
		case <-t.Chan():
		case <-ctx.Done():
			return fmt.Errorf("stop container %s: %w", task.ID(), ctx.Err())
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, client.WithKillAll); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsFailedPrecondition(err) {
		return convert(err, "kill container "+task.ID())
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop container %s: %w", task.ID(), ctx.Err())
	}
}

// RemoveContainer kills the container, deletes its process, its snapshot and
// its log file.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) (err error) {
	defer r.observe("remove_container", time.Now(), &err)
	ctx = r.ctx(ctx)
	defer r.locks.lock(id)()
	ctr, info, err := r.containerRecord(ctx, id)
	if err != nil {
		return err
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		if err := stopTask(ctx, r.cfg.Clock, task, 0); err != nil {
			return err
		}
		if _, err := task.Delete(ctx, client.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return convert(err, "remove container "+id)
		}
	} else if !errdefs.IsNotFound(err) {
		return convert(err, "remove container "+id)
	}
	if err := ctr.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return convert(err, "remove container "+id)
	}
	// The task is gone, so the shim has closed the FIFOs: the copy ends.
	r.copiersMu.Lock()
	c := r.copiers[id]
	r.copiersMu.Unlock()
	if c != nil && !c.wait(reapTimeout) {
		r.cfg.Logger.Warn("output of a removed container did not end", "container", id)
	}
	r.dropCopier(id)
	os.RemoveAll(r.ioDir(id))
	if p := info.Labels[labelLogPath]; p != "" {
		os.Remove(p)
		os.Remove(filepath.Dir(p)) // only if empty
	}
	return nil
}

// ListContainers reports the containers matching f.
func (r *Runtime) ListContainers(ctx context.Context, f runtime.ContainerFilter) (_ []runtime.ContainerStatus, err error) {
	defer r.observe("list_containers", time.Now(), &err)
	ctx = r.ctx(ctx)
	filter := fmt.Sprintf(`labels.%q==%s`, labelKind, kindContainer)
	if f.SandboxID != "" {
		filter += fmt.Sprintf(`,labels.%q==%q`, runtime.LabelSandboxID, f.SandboxID)
	}
	if f.ID != "" {
		filter += fmt.Sprintf(`,id==%q`, f.ID)
	}
	cs, err := r.client.ContainerService().List(ctx, filter)
	if err != nil {
		return nil, convert(err, "list containers")
	}
	var out []runtime.ContainerStatus
	for _, c := range cs {
		if !runtime.ContainerFilter(runtime.ContainerFilter{Labels: f.Labels}).Match(runtime.ContainerStatus{Labels: c.Labels}) {
			continue
		}
		st, err := r.status(ctx, c)
		if errors.Is(err, runtime.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		if f.Match(st) {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ContainerStatus reports the container.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (_ runtime.ContainerStatus, err error) {
	defer r.observe("container_status", time.Now(), &err)
	ctx = r.ctx(ctx)
	_, info, err := r.containerRecord(ctx, id)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	return r.status(ctx, info)
}

func (r *Runtime) status(ctx context.Context, c containers.Container) (runtime.ContainerStatus, error) {
	attempt, _ := strconv.ParseUint(c.Labels[runtime.LabelAttempt], 10, 32)
	st := runtime.ContainerStatus{
		ID:        c.ID,
		SandboxID: c.Labels[runtime.LabelSandboxID],
		Name:      c.Labels[runtime.LabelContainerName],
		Attempt:   uint32(attempt),
		Image:     c.Image,
		ImageID:   c.Labels[labelImageID],
		CreatedAt: c.CreatedAt,
		Labels:    publicLabels(c.Labels),
		LogPath:   c.Labels[labelLogPath],
	}
	ts, err := r.client.TaskService().Get(ctx, &tasks.GetRequest{ContainerID: c.ID})
	switch {
	case errdefs.IsNotFound(errgrpc.ToNative(err)):
		// Reaped (see reap), or lost with its shim.
	case err != nil:
		return runtime.ContainerStatus{}, convert(errgrpc.ToNative(err), "container "+c.ID)
	default:
		switch strings.ToLower(ts.GetProcess().GetStatus().String()) {
		case "created":
			st.State = runtime.ContainerCreated
		case "running", "paused", "pausing":
			st.State = runtime.ContainerRunning
		case "stopped":
			// The shim reports the exit before it has copied the last of
			// the output to the log: reap the task, which waits for that,
			// before saying Exited.
			if c, err = r.reap(ctx, c.ID); err != nil {
				return runtime.ContainerStatus{}, err
			}
		default:
			st.State = runtime.ContainerUnknown
		}
	}
	if s := c.Labels[labelStarted]; s != "" {
		st.StartedAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	if st.State != "" {
		return st, nil
	}
	code, err := strconv.Atoi(c.Labels[labelExitCode])
	if err != nil {
		st.State = runtime.ContainerUnknown
		return st, nil
	}
	st.State = runtime.ContainerExited
	st.ExitCode = code
	if s := c.Labels[labelFinished]; s != "" {
		st.FinishedAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	st.Reason = runtime.Reason(code, c.Labels[labelOOM] == "true")
	return st, nil
}
