package containerdtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"
)

// InstallCommand is the command that installs what the harness needs on a
// Debian machine.
const InstallCommand = "apt-get install -y containerd runc containernetworking-plugins iptables"

// DefaultCNIBinDirs are searched for the CNI plugins.
var DefaultCNIBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// RuncRoot is where the runc shim keeps container state, one directory per
// containerd namespace, whatever the daemon's state directory.
const RuncRoot = "/run/containerd/runc"

// ErrMissingDeps is wrapped by CheckDeps' error.
var ErrMissingDeps = errors.New("containerdtest: missing dependencies")

// CheckDeps reports whether containerd, runc and the CNI bridge, host-local
// and loopback plugins are installed, and must run as root. Its error names
// what is missing and the exact command that installs it.
func CheckDeps() error {
	var missing []string
	for _, bin := range []string{"containerd", "runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := CNIBinDir(); err != nil {
		missing = append(missing, "CNI plugins (bridge, host-local, loopback)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not found; install with: %s (or run scripts/install-deps.sh)", ErrMissingDeps, strings.Join(missing, ", "), InstallCommand)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: containerd, network namespaces and CNI need root; run the tests as root", ErrMissingDeps)
	}
	return nil
}

// CNIBinDir returns the first of DefaultCNIBinDirs holding the bridge,
// host-local and loopback plugins.
func CNIBinDir() (string, error) {
	for _, dir := range DefaultCNIBinDirs {
		ok := true
		for _, p := range []string{"bridge", "host-local", "loopback"} {
			if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Mode()&0o111 == 0 {
				ok = false
				break
			}
		}
		if ok {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: CNI plugins bridge, host-local and loopback not found in %v; install with: %s", ErrMissingDeps, DefaultCNIBinDirs, InstallCommand)
}

// Daemon is a private containerd daemon: its own root, state directory and
// socket under a temporary directory, the overlayfs snapshotter, and the CRI
// plugin disabled.
type Daemon struct {
	// Address is the daemon's gRPC socket.
	Address string
	// Dir is the temporary directory holding everything of the daemon.
	Dir string

	natBefore map[string]bool // nat tables present at Start (see nat.go)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exits
	log  *os.File
}

// Start starts a daemon and waits until it answers. Stop it with Stop.
func Start(ctx context.Context) (*Daemon, error) {
	if err := CheckDeps(); err != nil {
		return nil, err
	}
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "ctrd-")
	if err != nil {
		return nil, fmt.Errorf("containerdtest: %w", err)
	}
	d := &Daemon{Dir: dir, Address: filepath.Join(dir, "c.sock"), natBefore: natTables()}
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.runtime.v1.linux"]
  shim_debug = false
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), d.Address, d.Address+".ttrpc")
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("containerdtest: %w", err)
	}
	if d.log, err = os.Create(filepath.Join(dir, "containerd.log")); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("containerdtest: %w", err)
	}
	if err := d.start(ctx); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) start(ctx context.Context) error {
	cmd := exec.Command("containerd", "--config", filepath.Join(d.Dir, "config.toml"), "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("containerdtest: start containerd: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	d.mu.Lock()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	return d.waitReady(ctx, done)
}

func (d *Daemon) waitReady(ctx context.Context, done chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		select {
		case <-done:
			return fmt.Errorf("containerdtest: containerd exited during startup; log:\n%s", d.Log())
		default:
		}
		if _, err := os.Stat(d.Address); err == nil {
			c, err := client.New(d.Address, client.WithTimeout(2*time.Second))
			if err == nil {
				ok, _ := c.IsServing(ctx)
				c.Close()
				if ok {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("containerdtest: containerd did not answer on %s: %w; log:\n%s", d.Address, ctx.Err(), d.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Log returns what the daemon has logged.
func (d *Daemon) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "containerd.log"))
	return string(b)
}

// Restart stops the daemon (SIGTERM; running containers' shims survive, as
// with a real daemon restart) and starts it again on the same directories.
func (d *Daemon) Restart(ctx context.Context) error {
	d.terminate()
	return d.start(ctx)
}

// terminate stops the daemon process only.
func (d *Daemon) terminate() {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	d.cmd = nil
	d.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Stop deletes every task and container the daemon holds, stops it, kills
// any shim left, unmounts what is mounted under Dir and removes Dir. It
// returns the first problem met, after doing all it can.
func (d *Daemon) Stop() error {
	var errs []error
	if d.running() {
		errs = append(errs, d.clean())
	}
	d.terminate()
	errs = append(errs, killShims(d.Address))
	errs = append(errs, unmountUnder(d.Dir))
	if d.log != nil {
		d.log.Close()
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, removeNewNATTables(d.natBefore))
	return errors.Join(errs...)
}

func (d *Daemon) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmd != nil
}

// clean deletes every task and container in every namespace.
func (d *Daemon) clean() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(d.Address)
	if err != nil {
		return err
	}
	defer c.Close()
	nss, err := c.NamespaceService().List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, err := c.Containers(nctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ctr := range ctrs {
			if t, err := ctr.Task(nctx, nil); err == nil {
				t.Kill(nctx, syscall.SIGKILL, client.WithKillAll)
				if ch, err := t.Wait(nctx); err == nil {
					select {
					case <-ch:
					case <-time.After(5 * time.Second):
					}
				}
				if _, err := t.Delete(nctx, client.WithProcessKill); err != nil {
					errs = append(errs, fmt.Errorf("delete task %s: %w", ctr.ID(), err))
				}
			}
			if err := ctr.Delete(nctx, client.WithSnapshotCleanup); err != nil {
				errs = append(errs, fmt.Errorf("delete container %s: %w", ctr.ID(), err))
			}
		}
		// The runc shim keeps container state under a per-namespace
		// directory outside the daemon's state; remove it once empty.
		os.Remove(filepath.Join(RuncRoot, ns))
	}
	return errors.Join(errs...)
}

// killShims kills the shim processes serving the daemon at address.
func killShims(address string) error {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == address {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return nil
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	var points []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// New starts a daemon for a test or benchmark and stops it at cleanup. It
// fails tb (never skips) when a dependency is missing, naming the install
// command.
func New(tb testing.TB) *Daemon {
	tb.Helper()
	d, err := Start(context.Background())
	if err != nil {
		tb.Fatalf("containerdtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := d.Stop(); err != nil {
			tb.Errorf("containerdtest: stop: %v", err)
		}
	})
	return d
}
