package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

// baseMemory is what every simulated process uses before it asks for more.
const baseMemory = 1 << 20

type container struct {
	status  runtime.ContainerStatus
	cfg     runtime.ContainerConfig
	argv    []string
	env     []string
	program Program
	img     image.Info
	cred    Cred
	fs      *procFS
	sb      *sandbox
	out     *output

	stdinR      *io.PipeReader // the process's input (cfg.Stdin)
	stdinW      *io.PipeWriter
	stdinClosed bool
	size        runtime.TermSize
	listeners   []*vlistener

	started bool
	hang    bool
	term    chan struct{} // closed on SIGTERM
	termed  bool
	kill    context.CancelFunc
	done    chan struct{} // closed when the process has exited
	mem     int64
}

func isNotFound(err error) bool { return errors.Is(err, runtime.ErrNotFound) }

// CreateContainer checks the image, command, mounts and user like the real
// runtime would when it creates the process, and records the container as
// Created.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("create container: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("CreateContainer"); err != nil {
		return "", err
	}
	sb, err := r.sandbox(sandboxID)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	if sb.status.State != runtime.SandboxReady {
		return "", fmt.Errorf("%w: create container %q: sandbox %s is %s", runtime.ErrFailedPrecondition, cfg.Name, sandboxID, sb.status.State)
	}
	id := runtime.ContainerID(sandboxID, cfg)
	if _, ok := r.containers[id]; ok {
		return "", fmt.Errorf("%w: container %q (attempt %d) in sandbox %s", runtime.ErrAlreadyExists, cfg.Name, cfg.Attempt, sandboxID)
	}
	img, ok := r.lookupImage(cfg.Image)
	if !ok {
		return "", fmt.Errorf("create container %q: %w: %s is not present locally", cfg.Name, runtime.ErrImageNotFound, cfg.Image)
	}
	if err := cfg.CheckHost(); err != nil {
		return "", fmt.Errorf("create container %q in sandbox %s: %w", cfg.Name, sandboxID, err)
	}
	if err := cfg.Security.CheckNonRoot(cfg.Image, img.Config.User); err != nil {
		return "", fmt.Errorf("create container %q in sandbox %s: %w", cfg.Name, sandboxID, err)
	}
	var argv []string
	switch {
	case len(cfg.Command) > 0:
		argv = append(append(argv, cfg.Command...), cfg.Args...)
	case len(cfg.Args) > 0:
		argv = append(append(argv, img.Config.Entrypoint...), cfg.Args...)
	default:
		argv = append(append(argv, img.Config.Entrypoint...), img.Config.Cmd...)
	}
	if len(argv) == 0 {
		return "", &runtime.FieldError{Field: "command", Reason: "is required: image " + cfg.Image + " has no entrypoint or cmd"}
	}
	env := append(append([]string{}, img.Config.Env...), cfg.Env...)
	path, err := resolve(img, argv[0], env)
	if err != nil {
		return "", fmt.Errorf("%w: create container %q: cannot create its process: %v", runtime.ErrInvalid, cfg.Name, err)
	}
	cred, err := resolveCred(cfg.Security, img)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	fsys, err := newProcFS(sb, cfg, img)
	if err != nil {
		return "", fmt.Errorf("create container %q: %w", cfg.Name, err)
	}
	prog := r.opts.programs[path]
	if prog == nil {
		prog = DefaultProgram
	}
	c := &container{
		status: runtime.ContainerStatus{
			ID: id, SandboxID: sandboxID, Name: cfg.Name, Attempt: cfg.Attempt, Image: cfg.Image, ImageID: img.ConfigDigest,
			State: runtime.ContainerCreated, CreatedAt: r.now(), Labels: runtime.ContainerLabels(sb.status, cfg),
			LogPath: fmt.Sprintf("/var/log/fake/%s_%s_%s_%d/%s/%d.log", sb.status.Namespace, sb.status.Name, sb.status.UID, sb.status.Attempt, cfg.Name, cfg.Attempt),
		},
		cfg: cfg, argv: argv, env: env, program: prog, img: img, cred: cred, fs: fsys, sb: sb,
		out: newOutput(r.now, cfg.TTY), term: make(chan struct{}), done: make(chan struct{}),
	}
	if cfg.Stdin {
		c.stdinR, c.stdinW = io.Pipe()
	}
	r.containers[id] = c
	return id, nil
}

func (r *Runtime) container(id string) (*container, error) {
	if id == "" {
		return nil, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("%w: container %s", runtime.ErrNotFound, id)
	}
	return c, nil
}

// exit ends c's process with code; r.mu must be held. Later exits do nothing.
func (r *Runtime) exit(c *container, code int, oom bool) {
	if c.status.State == runtime.ContainerExited {
		return
	}
	c.status.State, c.status.ExitCode = runtime.ContainerExited, code
	c.status.Reason = runtime.Reason(code, oom)
	c.status.FinishedAt = r.now()
	c.out.close()
	if c.kill != nil {
		c.kill()
	}
	if c.stdinR != nil {
		c.stdinR.CloseWithError(io.EOF)
		c.stdinW.Close()
	}
	for _, l := range c.listeners {
		l.Close()
	}
	close(c.done)
}

// process returns what c's program (or a process executed in c) sees;
// r.mu must be held.
func (r *Runtime) process(c *container, args []string) *Process {
	return &Process{
		Args: args, Env: c.env, Term: c.term, Hostname: c.sb.status.Hostname, Cred: c.cred, Resources: c.cfg.Resources,
		fs: c.fs, net: c.sb.net, rt: r,
		mem: func(delta int64) { r.useMemory(c, delta) },
		owner: func(l *vlistener) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if c.status.State == runtime.ContainerExited {
				l.Close()
				return
			}
			c.listeners = append(c.listeners, l)
		},
	}
}

// StartContainer runs the container's program in a goroutine.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("StartContainer"); err != nil {
		return err
	}
	c, err := r.container(id)
	if err != nil {
		return err
	}
	if c.status.State != runtime.ContainerCreated {
		return fmt.Errorf("%w: start container %s: it is %s, not created", runtime.ErrFailedPrecondition, id, c.status.State)
	}
	pctx, kill := context.WithCancel(context.Background())
	c.started, c.kill = true, kill
	c.status.State, c.status.StartedAt = runtime.ContainerRunning, r.now()
	p := r.process(c, c.argv)
	p.Stdout, p.Stderr = c.out.stream(runtime.Stdout), c.out.stream(runtime.Stderr)
	var in io.Reader = strings.NewReader("")
	if c.stdinR != nil {
		in = c.stdinR
	}
	if c.cfg.TTY {
		p.TTY = true
		p.size = func() runtime.TermSize {
			r.mu.Lock()
			defer r.mu.Unlock()
			return c.size
		}
		in = &ttyInput{r: in, echo: p.Stdout}
	}
	p.Stdin = in
	go func() {
		code := c.program(pctx, p)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.exit(c, code, false)
	}()
	return nil
}

func (r *Runtime) useMemory(c *container, delta int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.mem += delta
	if c.cfg.Resources.MemoryLimit > 0 && baseMemory+c.mem > c.cfg.Resources.MemoryLimit {
		r.exit(c, 137, true)
	}
}

// StopContainer sends SIGTERM (ignored by hung containers), waits up to
// grace, then kills the container with exit code 137.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	r.mu.Lock()
	if err := r.injected("StopContainer"); err != nil {
		r.mu.Unlock()
		return err
	}
	c, err := r.container(id)
	if err != nil || c.status.State == runtime.ContainerExited {
		r.mu.Unlock()
		return err
	}
	if !c.started {
		r.exit(c, 137, false)
		r.mu.Unlock()
		return nil
	}
	if !c.hang && !c.termed && grace > 0 {
		c.termed = true
		close(c.term)
	}
	done := c.done
	r.mu.Unlock()
	if grace > 0 {
		timer := r.opts.clock.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-done:
			return nil
		case <-timer.Chan():
		case <-ctx.Done():
			return fmt.Errorf("stop container %s: %w", id, ctx.Err())
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exit(c, 137, false)
	return nil
}

// RemoveContainer kills the container and forgets it and its log.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("RemoveContainer"); err != nil {
		return err
	}
	c, err := r.container(id)
	if err != nil {
		return err
	}
	r.exit(c, 137, false)
	delete(r.containers, id)
	return nil
}

func copyCStatus(s runtime.ContainerStatus) runtime.ContainerStatus {
	l := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		l[k] = v
	}
	s.Labels = l
	return s
}

// ListContainers reports the containers matching f, sorted by ID.
func (r *Runtime) ListContainers(ctx context.Context, f runtime.ContainerFilter) ([]runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ListContainers"); err != nil {
		return nil, err
	}
	var out []runtime.ContainerStatus
	for _, c := range r.containers {
		if f.Match(c.status) {
			out = append(out, copyCStatus(c.status))
		}
	}
	sortStatuses(out)
	return out, nil
}

func sortStatuses(s []runtime.ContainerStatus) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].ID < s[j-1].ID; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// ContainerStatus reports the container.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ContainerStatus"); err != nil {
		return runtime.ContainerStatus{}, err
	}
	c, err := r.container(id)
	if err != nil {
		return runtime.ContainerStatus{}, err
	}
	return copyCStatus(c.status), nil
}

// Exit makes the container's process exit with code now, as if it crashed.
func (r *Runtime) Exit(id string, code int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.container(id)
	if err != nil {
		return err
	}
	if c.status.State != runtime.ContainerRunning {
		return fmt.Errorf("%w: exit container %s: it is %s", runtime.ErrFailedPrecondition, id, c.status.State)
	}
	r.exit(c, code, false)
	return nil
}

// Hang makes the container ignore SIGTERM, so stopping it takes the whole
// grace period and ends with SIGKILL.
func (r *Runtime) Hang(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.container(id)
	if err != nil {
		return err
	}
	c.hang = true
	return nil
}

// Running returns the IDs of the containers whose process runs.
func (r *Runtime) Running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, c := range r.containers {
		if c.status.State == runtime.ContainerRunning {
			ids = append(ids, id)
		}
	}
	return ids
}

// Stats reports simulated usage: wall time since start as CPU time, and
// 1 MiB plus what the program asked for as memory.
func (r *Runtime) Stats(ctx context.Context, id string) (runtime.ContainerStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("Stats"); err != nil {
		return runtime.ContainerStats{}, err
	}
	c, err := r.container(id)
	if err != nil {
		return runtime.ContainerStats{}, err
	}
	if c.status.State != runtime.ContainerRunning {
		return runtime.ContainerStats{}, fmt.Errorf("%w: stats of container %s: it is not running", runtime.ErrFailedPrecondition, id)
	}
	now := r.now()
	mem := uint64(baseMemory + c.mem)
	return runtime.ContainerStats{
		Timestamp: now, CPUUsageNanos: uint64(max(now.Sub(c.status.StartedAt), 1)),
		MemoryUsageBytes: mem, MemoryWorkingSetBytes: mem, MemoryLimitBytes: uint64(c.cfg.Resources.MemoryLimit),
	}, nil
}
