package fake

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
)

type options struct {
	programs  map[string]Program
	nodeIP    string
	hostname  string
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

// WithHostname sets the host name host-network sandboxes report. Default:
// the machine's.
func WithHostname(name string) Option { return func(o *options) { o.hostname = name } }

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
	nets       map[string]*vnet // by IP: the sandboxes' networks
	hostNet    *vnet            // shared by host-network sandboxes
	hostPorts  map[string]*sandbox
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns an empty fake runtime.
func New(opts ...Option) *Runtime {
	host, _ := os.Hostname()
	o := options{programs: map[string]Program{}, nodeIP: "127.0.0.1", hostname: host, stopGrace: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = clockwork.NewRealClock()
	}
	return &Runtime{
		opts: o, images: map[string]image.Info{}, sandboxes: map[string]*sandbox{},
		containers: map[string]*container{}, inject: map[string][]error{}, nextIP: 2,
		nets: map[string]*vnet{}, hostNet: newVnet(o.nodeIP), hostPorts: map[string]*sandbox{},
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
	c := i.Config
	return runtime.Image{
		Name: i.Name, Digest: i.Digest, ID: i.ConfigDigest, Size: i.Size, User: c.User,
		Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
	}
}

// ImageStatus returns the local image.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (runtime.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ImageStatus"); err != nil {
		return runtime.Image{}, err
	}
	if info, ok := r.lookupImage(ref); ok {
		return toImage(info), nil
	}
	return runtime.Image{}, fmt.Errorf("%w: image %s is not present on this node", runtime.ErrImageNotFound, ref)
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
