package fake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/logfile"
)

// baseMemory is what every simulated process uses before it asks for more.
const baseMemory = 1 << 20

type container struct {
	status  runtime.ContainerStatus
	argv    []string
	env     []string
	program Program
	limit   int64
	log     *logBuffer

	started bool
	hang    bool
	term    chan struct{} // closed on SIGTERM
	termed  bool
	kill    context.CancelFunc
	done    chan struct{} // closed when the process has exited
	mem     int64
}

func isNotFound(err error) bool { return errors.Is(err, runtime.ErrNotFound) }

// CreateContainer checks the image and command like the real runtime would
// when it creates the process, and records the container as Created.
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
	prog := r.opts.programs[path]
	if prog == nil {
		prog = DefaultProgram
	}
	r.containers[id] = &container{
		status: runtime.ContainerStatus{
			ID: id, SandboxID: sandboxID, Name: cfg.Name, Attempt: cfg.Attempt, Image: cfg.Image,
			State: runtime.ContainerCreated, CreatedAt: r.now(), Labels: runtime.ContainerLabels(sb.status, cfg),
			LogPath: fmt.Sprintf("/var/log/fake/%s_%s_%s_%d/%s/%d.log", sb.status.Namespace, sb.status.Name, sb.status.UID, sb.status.Attempt, cfg.Name, cfg.Attempt),
		},
		argv: argv, env: env, program: prog, limit: cfg.Resources.MemoryLimit,
		log: &logBuffer{wake: make(chan struct{})}, term: make(chan struct{}), done: make(chan struct{}),
	}
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
	c.log.close()
	if c.kill != nil {
		c.kill()
	}
	close(c.done)
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
	p := &Process{
		Args: c.argv, Env: c.env, Stdout: c.log, Stderr: c.log, Term: c.term,
		mem: func(delta int64) { r.useMemory(c, delta) },
	}
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
	if c.limit > 0 && baseMemory+c.mem > c.limit {
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

// Logs returns the container's output.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("Logs"); err != nil {
		return nil, err
	}
	c, err := r.container(id)
	if err != nil {
		return nil, err
	}
	c.log.mu.Lock()
	data := c.log.data
	c.log.mu.Unlock()
	off := len(data) - len(logfile.Tail(data, opts.Tail))
	if !opts.Follow {
		return io.NopCloser(bytes.NewReader(append([]byte(nil), data[off:]...))), nil
	}
	return &logReader{ctx: ctx, buf: c.log, off: off, done: c.done}, nil
}

// Exec runs cmd's program synchronously in the running container.
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string) (runtime.ExecResult, error) {
	if len(cmd) == 0 || cmd[0] == "" {
		return runtime.ExecResult{}, &runtime.FieldError{Field: "cmd", Reason: "is required"}
	}
	r.mu.Lock()
	if err := r.injected("Exec"); err != nil {
		r.mu.Unlock()
		return runtime.ExecResult{}, err
	}
	c, err := r.container(id)
	if err != nil {
		r.mu.Unlock()
		return runtime.ExecResult{}, err
	}
	if c.status.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return runtime.ExecResult{}, fmt.Errorf("%w: exec in container %s: it is not running (%s)", runtime.ErrFailedPrecondition, id, c.status.State)
	}
	img := r.images[c.status.Image]
	path, err := resolve(img, cmd[0], c.env)
	prog := r.opts.programs[path]
	done := c.done
	r.mu.Unlock()
	if err != nil {
		return runtime.ExecResult{}, fmt.Errorf("%w: exec %q in container %s: %v", runtime.ErrInvalid, cmd, id, err)
	}
	if prog == nil {
		prog = DefaultProgram
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-pctx.Done():
		}
	}()
	var stdout, stderr syncBuffer
	code := prog(pctx, &Process{Args: cmd, Env: c.env, Stdout: &stdout, Stderr: &stderr})
	if err := ctx.Err(); err != nil {
		return runtime.ExecResult{}, fmt.Errorf("exec in container %s: %w", id, err)
	}
	return runtime.ExecResult{ExitCode: code, Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}, nil
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
		MemoryUsageBytes: mem, MemoryWorkingSetBytes: mem, MemoryLimitBytes: uint64(c.limit),
	}, nil
}

// logBuffer is a container's log: appended by the process, read by Logs.
type logBuffer struct {
	mu     sync.Mutex
	data   []byte
	wake   chan struct{} // closed and replaced on every write
	closed bool
}

// Write appends p unless the process has exited.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errors.New("fake: process has exited")
	}
	b.data = append(b.data, p...)
	close(b.wake)
	b.wake = make(chan struct{})
	return len(p), nil
}

func (b *logBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

type logReader struct {
	ctx  context.Context
	buf  *logBuffer
	off  int
	done <-chan struct{}
}

// Read returns logged bytes, waiting for more until the process exits.
func (l *logReader) Read(p []byte) (int, error) {
	for {
		l.buf.mu.Lock()
		n := copy(p, l.buf.data[l.off:])
		l.off += n
		wake := l.buf.wake
		l.buf.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		select {
		case <-l.done:
			l.buf.mu.Lock()
			more := len(l.buf.data) > l.off
			l.buf.mu.Unlock()
			if !more {
				return 0, io.EOF
			}
		case <-wake:
		case <-l.ctx.Done():
			return 0, l.ctx.Err()
		}
	}
}

// Close does nothing.
func (l *logReader) Close() error { return nil }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.buf.Bytes()...)
}
