package fake

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

// Process is what a simulated program sees.
type Process struct {
	// Args is the command line, Args[0] being the program's path.
	Args []string
	// Env is the environment, as KEY=VALUE.
	Env []string
	// Stdout and Stderr go to the container's log (or, for Exec, to the
	// result).
	Stdout, Stderr io.Writer
	// Term is closed when the process receives SIGTERM.
	Term <-chan struct{}

	mem func(int64)
}

// Getenv returns the value of the environment variable key.
func (p *Process) Getenv(key string) string {
	for i := len(p.Env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(p.Env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// UseMemory adds delta bytes to the memory the container reports in use.
// Going over the container's memory limit gets it OOM-killed.
func (p *Process) UseMemory(delta int64) {
	if p.mem != nil {
		p.mem(delta)
	}
}

// Program simulates a binary. ctx ends when the process is killed; the
// return value is the exit code.
type Program func(ctx context.Context, p *Process) int

// DefaultProgram runs until signalled: it exits 143 on SIGTERM and 137 when
// killed, like a typical server.
func DefaultProgram(ctx context.Context, p *Process) int {
	select {
	case <-p.Term:
		return 143
	case <-ctx.Done():
		return 137
	}
}

type options struct {
	programs  map[string]Program
	nodeIP    string
	stopGrace time.Duration
	clock     clockwork.Clock
}

// Option configures a fake Runtime.
type Option func(*options)

// WithProgram simulates the binary at path (inside any image) with p.
// Binaries without a program run DefaultProgram.
func WithProgram(path string, p Program) Option {
	return func(o *options) { o.programs[path] = p }
}

// WithNodeIP sets the IP host-network sandboxes report. Default 127.0.0.1.
func WithNodeIP(ip string) Option { return func(o *options) { o.nodeIP = ip } }

// WithStopGrace sets the grace period StopSandbox gives each container.
// Default 10s.
func WithStopGrace(d time.Duration) Option { return func(o *options) { o.stopGrace = d } }

// WithClock sets the clock behind timestamps and the grace period of
// StopContainer; tests pass clockwork.NewFakeClock() to stop containers
// without waiting. nil (the default) is the real clock.
func WithClock(c clockwork.Clock) Option { return func(o *options) { o.clock = c } }

// Runtime is an in-memory runtime.Runtime: the same lifecycle, state
// machine, IDs, labels and errors as the containerd runtime, with programs
// simulated by Go functions. It is safe for concurrent use.
type Runtime struct {
	opts options

	mu         sync.Mutex
	images     map[string]image.Info
	sandboxes  map[string]*sandbox
	containers map[string]*container
	freeIPs    []uint32
	nextIP     uint32
	inject     map[string][]error
}

var _ runtime.Runtime = (*Runtime)(nil)

type sandbox struct {
	status runtime.SandboxStatus
	ipNum  uint32
}

// New returns an empty fake runtime.
func New(opts ...Option) *Runtime {
	o := options{programs: map[string]Program{}, nodeIP: "127.0.0.1", stopGrace: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = clockwork.NewRealClock()
	}
	return &Runtime{
		opts: o, images: map[string]image.Info{}, sandboxes: map[string]*sandbox{},
		containers: map[string]*container{}, inject: map[string][]error{}, nextIP: 2,
	}
}

// InjectError makes the next call of method (for example "StartContainer")
// fail with err, before it changes anything. Calls queue up.
func (r *Runtime) InjectError(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inject[method] = append(r.inject[method], err)
}

// injected pops an injected error; r.mu must be held.
func (r *Runtime) injected(method string) error {
	q := r.inject[method]
	if len(q) == 0 {
		return nil
	}
	r.inject[method] = q[1:]
	return q[0]
}

func (r *Runtime) now() time.Time { return r.opts.clock.Now().UTC() }

// --- images ---

func (r *Runtime) lookupImage(ref string) (image.Info, bool) {
	info, ok := r.images[ref]
	return info, ok
}

// EnsureImage returns the local image. The fake has no registry: other
// references fail with ErrImageNotFound and ErrUnavailable.
func (r *Runtime) EnsureImage(ctx context.Context, ref string) (runtime.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("EnsureImage"); err != nil {
		return runtime.Image{}, err
	}
	if ref == "" || strings.ContainsFunc(ref, func(c rune) bool { return c <= ' ' }) {
		return runtime.Image{}, &runtime.FieldError{Field: "image", Value: ref, Reason: "is not an image reference"}
	}
	if info, ok := r.lookupImage(ref); ok {
		return toImage(info), nil
	}
	return runtime.Image{}, fmt.Errorf("%w: %s is not local and its registry cannot be reached (%w): the fake runtime has no registry", runtime.ErrImageNotFound, ref, runtime.ErrUnavailable)
}

func toImage(i image.Info) runtime.Image {
	return runtime.Image{Name: i.Name, Digest: i.Digest, Size: i.Size}
}

// ImportImage reads an OCI image layout tarball.
func (r *Runtime) ImportImage(ctx context.Context, rd io.Reader) ([]runtime.Image, error) {
	infos, err := image.ReadArchive(rd)
	if err != nil {
		return nil, fmt.Errorf("import image: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ImportImage"); err != nil {
		return nil, err
	}
	out := make([]runtime.Image, 0, len(infos))
	for _, info := range infos {
		r.images[info.Name] = info
		out = append(out, toImage(info))
	}
	return out, nil
}

// ListImages returns the images, sorted by name.
func (r *Runtime) ListImages(ctx context.Context) ([]runtime.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ListImages"); err != nil {
		return nil, err
	}
	out := make([]runtime.Image, 0, len(r.images))
	for _, i := range r.images {
		out = append(out, toImage(i))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveImage deletes the image.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("RemoveImage"); err != nil {
		return err
	}
	if _, ok := r.images[ref]; !ok {
		return fmt.Errorf("%w: %s", runtime.ErrImageNotFound, ref)
	}
	delete(r.images, ref)
	return nil
}

// --- sandboxes ---

// RunSandbox makes a ready sandbox with an IP from 10.244.0.0/16.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("run sandbox: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("RunSandbox"); err != nil {
		return "", err
	}
	id := runtime.SandboxID(cfg)
	if _, ok := r.sandboxes[id]; ok {
		return "", fmt.Errorf("%w: sandbox %s for pod %s/%s (uid %s, attempt %d)", runtime.ErrAlreadyExists, id, cfg.Namespace, cfg.Name, cfg.UID, cfg.Attempt)
	}
	sb := &sandbox{status: runtime.SandboxStatus{
		ID: id, Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt,
		State: runtime.SandboxReady, HostNetwork: cfg.HostNetwork, CreatedAt: r.now(), Labels: runtime.SandboxLabels(cfg),
	}}
	if cfg.HostNetwork {
		sb.status.IP = r.opts.nodeIP
	} else {
		if len(r.freeIPs) > 0 {
			sb.ipNum, r.freeIPs = r.freeIPs[0], r.freeIPs[1:]
		} else {
			if r.nextIP >= 1<<16-1 {
				return "", fmt.Errorf("%w: run sandbox %s: the pod subnet 10.244.0.0/16 is exhausted", runtime.ErrUnavailable, id)
			}
			sb.ipNum = r.nextIP
			r.nextIP++
		}
		sb.status.IP = fmt.Sprintf("10.244.%d.%d", sb.ipNum>>8, sb.ipNum&0xff)
		sb.status.NetNS = "/var/run/netns/fake-" + id
	}
	r.sandboxes[id] = sb
	return id, nil
}

func copyStatus(s runtime.SandboxStatus) runtime.SandboxStatus {
	l := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		l[k] = v
	}
	s.Labels = l
	return s
}

func (r *Runtime) sandbox(id string) (*sandbox, error) {
	if id == "" {
		return nil, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil, fmt.Errorf("%w: sandbox %s", runtime.ErrNotFound, id)
	}
	return sb, nil
}

// SandboxStatus reports the sandbox.
func (r *Runtime) SandboxStatus(ctx context.Context, id string) (runtime.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("SandboxStatus"); err != nil {
		return runtime.SandboxStatus{}, err
	}
	sb, err := r.sandbox(id)
	if err != nil {
		return runtime.SandboxStatus{}, err
	}
	return copyStatus(sb.status), nil
}

// ListSandboxes reports the sandboxes matching f, sorted by ID.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.SandboxFilter) ([]runtime.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ListSandboxes"); err != nil {
		return nil, err
	}
	var out []runtime.SandboxStatus
	for _, sb := range r.sandboxes {
		if f.Match(sb.status) {
			out = append(out, copyStatus(sb.status))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StopSandbox stops the sandbox's containers and releases its IP.
func (r *Runtime) StopSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	if err := r.injected("StopSandbox"); err != nil {
		r.mu.Unlock()
		return err
	}
	if _, err := r.sandbox(id); err != nil {
		r.mu.Unlock()
		return err
	}
	ids := r.containerIDs(id)
	r.mu.Unlock()
	for _, c := range ids {
		if err := r.StopContainer(ctx, c, r.opts.stopGrace); err != nil && !isNotFound(err) {
			return fmt.Errorf("stop sandbox %s: %w", id, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandbox(id)
	if err != nil {
		return err
	}
	if sb.status.State == runtime.SandboxReady {
		sb.status.State, sb.status.IP, sb.status.NetNS = runtime.SandboxNotReady, "", ""
		if sb.ipNum != 0 {
			r.freeIPs = append(r.freeIPs, sb.ipNum)
			sb.ipNum = 0
		}
	}
	return nil
}

// RemoveSandbox stops the sandbox, removes its containers and deletes it.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	if err := r.StopSandbox(ctx, id); err != nil {
		return err
	}
	r.mu.Lock()
	ids := r.containerIDs(id)
	r.mu.Unlock()
	for _, c := range ids {
		if err := r.RemoveContainer(ctx, c); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove sandbox %s: %w", id, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.sandbox(id); err != nil {
		return err
	}
	delete(r.sandboxes, id)
	return nil
}

// containerIDs lists a sandbox's containers; r.mu must be held.
func (r *Runtime) containerIDs(sandboxID string) []string {
	var ids []string
	for id, c := range r.containers {
		if c.status.SandboxID == sandboxID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// resolve finds argv[0] in the image like execve with PATH lookup does.
func resolve(info image.Info, argv0 string, env []string) (string, error) {
	isExec := func(p string) bool {
		m, ok := info.Files[p]
		return ok && m.Type() == 0 && m&0o111 != 0
	}
	if strings.Contains(argv0, "/") {
		p := argv0
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		if isExec(p) {
			return p, nil
		}
		return "", fmt.Errorf("%s: no such executable file in image %s", argv0, info.Name)
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range strings.Split(path, ":") {
		if p := strings.TrimSuffix(dir, "/") + "/" + argv0; isExec(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in $PATH of image %s", argv0, info.Name)
}
