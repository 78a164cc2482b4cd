package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/image"
	"github.com/setpoint-dev/setpoint/runtime/internal/podfiles"
)

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

// Process is what a simulated program sees: its arguments, environment,
// streams and identity, and methods that act on its container's simulated
// file system and its sandbox's simulated network.
type Process struct {
	// Args is the command line, Args[0] being the program's path.
	Args []string
	// Env is the environment, as KEY=VALUE.
	Env []string
	// Stdin is the standard input: empty unless the container was created
	// with Stdin (then Attach writes to it) or Exec was given one.
	Stdin io.Reader
	// Stdout and Stderr go to the container's log and attached clients
	// (or, for Exec, to its writers). With TTY they are the same terminal,
	// which turns "\n" into "\r\n".
	Stdout, Stderr io.Writer
	// Term is closed when the process receives SIGTERM.
	Term <-chan struct{}
	// Hostname is the sandbox's host name.
	Hostname string
	// TTY reports whether the process runs on a terminal.
	TTY bool
	// Cred is the process's identity and privileges.
	Cred Cred
	// Resources are the container's limits.
	Resources runtime.Resources

	mem   func(int64)
	fs    *procFS
	net   *vnet
	rt    *Runtime
	size  func() runtime.TermSize
	owner func(*vlistener) // records listeners of the container, closed at its exit
}

// Cred is a simulated process's identity and privileges.
type Cred struct {
	// UID and GID are the user and primary group.
	UID, GID int64
	// Groups are the supplementary groups, sorted; they include GID.
	Groups []int64
	// Capabilities are the effective capabilities ("CAP_..."): the
	// container's set for root, none for other users.
	Capabilities []string
	// NoNewPrivileges is the no_new_privs bit.
	NoNewPrivileges bool
	// Seccomp is the filter the process runs under (none for a
	// privileged container, as on containerd).
	Seccomp runtime.Seccomp
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

// TermSize returns the terminal's size (zero without a TTY, or before the
// client sent one).
func (p *Process) TermSize() runtime.TermSize {
	if p.size == nil {
		return runtime.TermSize{}
	}
	return p.size()
}

// After waits on the runtime's clock.
func (p *Process) After(d time.Duration) <-chan time.Time { return p.rt.opts.clock.After(d) }

// ReadFile reads a file of the container: a bind mount reads the node's
// file, a tmpfs mount the sandbox's memory volume, /etc/hosts, /etc/hostname
// and /etc/resolv.conf the sandbox's files, and the rest the image (files
// the image ships read as empty) and what the container wrote.
func (p *Process) ReadFile(name string) ([]byte, error) { return p.fs.readFile(name) }

// WriteFile writes a file of the container (see ReadFile), failing with
// EROFS on a read-only mount or root file system and ENOSPC past a tmpfs
// volume's size limit.
func (p *Process) WriteFile(name string, data []byte) error { return p.fs.writeFile(name, data) }

// Remove removes a file of the container.
func (p *Process) Remove(name string) error { return p.fs.remove(name) }

// Listen listens on a TCP address ("host:port", a fixed port) in the
// sandbox's simulated network; it closes when the container exits.
func (p *Process) Listen(addr string) (net.Listener, error) {
	l, err := p.net.listen(addr, nil)
	if err == nil && p.owner != nil {
		p.owner(l)
	}
	return l, err
}

// Dial connects to a TCP address in the simulated network: localhost (or
// 127.0.0.1, or the sandbox's IP) reaches the sandbox's own listeners,
// another sandbox's IP that sandbox's.
func (p *Process) Dial(ctx context.Context, addr string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, opErr("dial", addr, err)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return nil, opErr("dial", addr, fmt.Errorf("bad port %q", ps))
	}
	switch host {
	case "localhost", "127.0.0.1", "::1", p.net.ip:
		return p.net.dial(ctx, p.net, uint16(port), false)
	}
	p.rt.mu.Lock()
	dst := p.rt.nets[host]
	if host == p.rt.hostNet.ip {
		dst = p.rt.hostNet
	}
	p.rt.mu.Unlock()
	if dst == nil {
		return nil, opErr("dial", addr, syscall.EHOSTUNREACH)
	}
	return dst.dial(ctx, p.net, uint16(port), true)
}

// resolveCred works out the process's identity from sc and the image's
// user, as the real runtime does for an image without /etc/passwd: a user
// or group given by a name other than root cannot be resolved.
func resolveCred(sc runtime.SecurityContext, img image.Info) (Cred, error) {
	iu, err := runtime.ParseImageUser(img.Config.User)
	if err != nil {
		return Cred{}, fmt.Errorf("%w: image %s: %v", runtime.ErrInvalid, img.Name, err)
	}
	var c Cred
	switch {
	case sc.RunAsUser != nil:
		c.UID = *sc.RunAsUser
	case iu.UID != nil:
		c.UID = *iu.UID
	case iu.User != "root":
		return Cred{}, fmt.Errorf("%w: image %s: user %q is not in the image's /etc/passwd", runtime.ErrInvalid, img.Name, iu.User)
	}
	switch {
	case sc.RunAsGroup != nil:
		c.GID = *sc.RunAsGroup
	case sc.RunAsUser != nil:
		// The user's group from /etc/passwd, which the fake's images lack.
	case iu.GID != nil:
		c.GID = *iu.GID
	case iu.Group != "" && iu.Group != "root":
		return Cred{}, fmt.Errorf("%w: image %s: group %q is not in the image's /etc/group", runtime.ErrInvalid, img.Name, iu.Group)
	}
	groups := map[int64]bool{c.GID: true}
	for _, g := range sc.SupplementalGroups {
		groups[g] = true
	}
	for g := range groups {
		c.Groups = append(c.Groups, g)
	}
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i] < c.Groups[j] })
	if c.UID == 0 {
		c.Capabilities = sc.CapabilitySet()
	}
	c.NoNewPrivileges = sc.NoNewPrivileges
	if !sc.Privileged {
		c.Seccomp = sc.Seccomp
	}
	return c, nil
}

// memVolume is a tmpfs volume: files in memory, bounded in total size.
type memVolume struct {
	mu    sync.Mutex
	limit int64
	files map[string][]byte
}

func (v *memVolume) used() int64 {
	var n int64
	for _, b := range v.files {
		n += int64(len(b))
	}
	return n
}

// procFS is a container's simulated file system.
type procFS struct {
	mounts   []runtime.Mount
	volumes  map[string]*memVolume // the sandbox's, by name
	provided map[string][]byte     // /etc/hosts and friends
	img      image.Info
	readOnly bool

	mu      sync.Mutex
	written map[string][]byte // the container's writes to its root file system
	removed map[string]bool   // image files it removed
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// where finds what serves name: a mount (and the path within it), or the
// root file system (nil).
func (f *procFS) where(name string) (*runtime.Mount, string) {
	var best *runtime.Mount
	for i := range f.mounts {
		m := &f.mounts[i]
		if (name == m.ContainerPath || strings.HasPrefix(name, m.ContainerPath+"/")) && (best == nil || len(m.ContainerPath) > len(best.ContainerPath)) {
			best = m
		}
	}
	if best == nil {
		return nil, name
	}
	return best, strings.TrimPrefix(name, best.ContainerPath)
}

func (f *procFS) clean(name string) string { return path.Join("/", name) }

func (f *procFS) readFile(name string) ([]byte, error) {
	name = f.clean(name)
	m, rel := f.where(name)
	switch {
	case m != nil && m.Type == runtime.MountTmpfs:
		v := f.volumes[m.Name]
		v.mu.Lock()
		defer v.mu.Unlock()
		if b, ok := v.files[rel]; ok {
			return append([]byte(nil), b...), nil
		}
		return nil, pathErr("open", name, syscall.ENOENT)
	case m != nil:
		return os.ReadFile(m.HostPath + rel)
	}
	if b, ok := f.provided[name]; ok {
		return append([]byte(nil), b...), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.written[name]; ok {
		return append([]byte(nil), b...), nil
	}
	mode, ok := f.img.Files[name]
	switch {
	case !ok || f.removed[name]:
		return nil, pathErr("open", name, syscall.ENOENT)
	case mode.IsDir():
		return nil, pathErr("read", name, syscall.EISDIR)
	}
	return []byte{}, nil
}

func (f *procFS) writeFile(name string, data []byte) error {
	name = f.clean(name)
	m, rel := f.where(name)
	switch {
	case m != nil && m.ReadOnly:
		return pathErr("open", name, syscall.EROFS)
	case m != nil && m.Type == runtime.MountTmpfs:
		v := f.volumes[m.Name]
		v.mu.Lock()
		defer v.mu.Unlock()
		old := v.files[rel]
		if v.limit > 0 && v.used()-int64(len(old))+int64(len(data)) > v.limit {
			v.files[rel] = nil // truncated by the open, then the write fails
			return pathErr("write", name, syscall.ENOSPC)
		}
		v.files[rel] = append([]byte(nil), data...)
		return nil
	case m != nil:
		return os.WriteFile(m.HostPath+rel, data, 0o644)
	}
	if _, ok := f.provided[name]; ok {
		return pathErr("open", name, syscall.EROFS)
	}
	if f.readOnly {
		return pathErr("open", name, syscall.EROFS)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if mode, ok := f.img.Files[path.Dir(name)]; !ok || !mode.IsDir() {
		return pathErr("open", name, syscall.ENOENT)
	}
	if mode, ok := f.img.Files[name]; ok && mode.IsDir() && !f.removed[name] {
		return pathErr("open", name, syscall.EISDIR)
	}
	f.written[name] = append([]byte(nil), data...)
	return nil
}

func (f *procFS) remove(name string) error {
	name = f.clean(name)
	m, rel := f.where(name)
	switch {
	case m != nil && m.ReadOnly:
		return pathErr("remove", name, syscall.EROFS)
	case m != nil && m.Type == runtime.MountTmpfs:
		v := f.volumes[m.Name]
		v.mu.Lock()
		defer v.mu.Unlock()
		if _, ok := v.files[rel]; !ok {
			return pathErr("remove", name, syscall.ENOENT)
		}
		delete(v.files, rel)
		return nil
	case m != nil:
		return os.Remove(m.HostPath + rel)
	}
	if f.readOnly {
		return pathErr("remove", name, syscall.EROFS)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.written[name]; ok {
		delete(f.written, name)
		return nil
	}
	if _, ok := f.img.Files[name]; ok && !f.removed[name] {
		f.removed[name] = true
		return nil
	}
	return pathErr("remove", name, syscall.ENOENT)
}

// newProcFS makes the file system of a container of sb; r.mu must be held.
// It creates the sandbox's tmpfs volumes the mounts name.
func newProcFS(sb *sandbox, cfg runtime.ContainerConfig, img image.Info) (*procFS, error) {
	f := &procFS{mounts: cfg.Mounts, volumes: sb.volumes, img: img, readOnly: cfg.Security.ReadOnlyRootFilesystem,
		written: map[string][]byte{}, removed: map[string]bool{}, provided: map[string][]byte{}}
	for i, m := range cfg.Mounts {
		if m.Type != runtime.MountTmpfs {
			continue
		}
		if v, ok := sb.volumes[m.Name]; ok && v.limit != m.SizeLimit {
			return nil, &runtime.FieldError{Field: fmt.Sprintf("mounts[%d].sizeLimit", i), Value: strconv.FormatInt(m.SizeLimit, 10),
				Reason: fmt.Sprintf("differs from the size limit %d of tmpfs volume %q of sandbox %s", v.limit, m.Name, sb.status.ID)}
		}
	}
	for _, m := range cfg.Mounts {
		if _, ok := sb.volumes[m.Name]; m.Type == runtime.MountTmpfs && !ok {
			sb.volumes[m.Name] = &memVolume{limit: m.SizeLimit, files: map[string][]byte{}}
		}
	}
	files := map[string][]byte{"/etc/hosts": sb.hosts, "/etc/hostname": podfiles.Hostname(sb.status.Hostname), "/etc/resolv.conf": sb.resolv}
	for p, b := range files {
		if !runtime.Mounted(cfg.Mounts, p) {
			f.provided[p] = b
		}
	}
	return f, nil
}

// isNotExist reports a missing file, real or simulated.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
