package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Prefix starts the name of every bridge, veth and network namespace the
// demo makes, so that a leftover is easy to find (ip link, ip netns).
const Prefix = "spmc"

// childAPIPort is the port of each child's apiserver, on its namespace's
// address.
const childAPIPort = "6443"

// env is what the demo has made on this machine: a directory, a bridge
// with the host's address, a network namespace per child, and processes.
// close removes all of it.
type env struct {
	w       io.Writer
	dir     string // everything the demo writes
	bin     string // the built programs
	tag     string // Prefix + 4 hex digits: names this run's links and namespaces
	bridge  string
	subnet  netip.Prefix // the bridge's /24
	hostIP  netip.Addr   // the bridge's address: the parent and the hub listen here
	mu      sync.Mutex
	netns   []string
	procs   []*proc
	kubectl string
}

// proc is a program the demo started, in a process group of its own.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // once done
	log  string
}

// newEnv makes the demo's directory and builds setpoint and the agent.
func newEnv(ctx context.Context, w io.Writer, subnet netip.Prefix) (*env, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the multi-cluster demo needs root (network namespaces, veth links, a bridge)")
	}
	if !subnet.Addr().Is4() || subnet.Bits() != 24 || subnet != subnet.Masked() {
		return nil, fmt.Errorf("subnet %s: want an IPv4 /24 network prefix", subnet)
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return nil, fmt.Errorf("kubectl is needed on PATH: %w", err)
	}
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "setpoint-mcdemo-")
	if err != nil {
		return nil, err
	}
	e := &env{w: w, dir: dir, bin: filepath.Join(dir, "bin"), tag: Prefix + hex.EncodeToString(b[:]), subnet: subnet,
		hostIP: subnet.Addr().Next(), kubectl: kubectl}
	e.bridge = e.tag
	e.say("working directory %s; links and network namespaces named %s*", dir, e.tag)
	e.say("building setpoint and the multi-cluster agent")
	build := exec.CommandContext(ctx, "go", "build", "-o", e.bin+"/",
		"github.com/setpoint-dev/setpoint/examples/cmd/setpoint", "github.com/setpoint-dev/setpoint/examples/cmd/agent")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return e, nil
}

func (e *env) say(format string, args ...any) { fmt.Fprintf(e.w, "# "+format+"\n", args...) }

// ip runs ip(8) with args.
func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// makeBridge makes the host's bridge with hostIP.
func (e *env) makeBridge(ctx context.Context) error {
	if err := ip(ctx, "link", "add", e.bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := ip(ctx, "addr", "add", netip.PrefixFrom(e.hostIP, 24).String(), "dev", e.bridge); err != nil {
		return err
	}
	return ip(ctx, "link", "set", e.bridge, "up")
}

// child is a child cluster's network namespace and address.
type child struct {
	name  string // cluster ID and label region=<name>
	netns string
	addr  netip.Addr
	dir   string
}

// apiURL is the child's apiserver URL inside its namespace.
func (c *child) apiURL() string { return "https://" + net.JoinHostPort(c.addr.String(), childAPIPort) }

// makeNetns makes the child's network namespace: loopback up, eth0 (a veth
// whose peer is a port of the bridge) with addr, a default route through
// the host, and an nftables table that refuses connections arriving on
// eth0 for the apiserver's port, so that the host reaches the child's
// apiserver only through the agent's tunnel.
func (e *env) makeNetns(ctx context.Context, c *child) error {
	e.mu.Lock()
	e.netns = append(e.netns, c.netns)
	e.mu.Unlock()
	hostEnd := e.tag + c.name[:1]
	steps := [][]string{
		{"netns", "add", c.netns},
		{"link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", c.netns},
		{"link", "set", hostEnd, "master", e.bridge, "up"},
		{"-n", c.netns, "link", "set", "lo", "up"},
		{"-n", c.netns, "addr", "add", netip.PrefixFrom(c.addr, 24).String(), "dev", "eth0"},
		{"-n", c.netns, "link", "set", "eth0", "up"},
		{"-n", c.netns, "route", "add", "default", "via", e.hostIP.String()},
	}
	for _, s := range steps {
		if err := ip(ctx, s...); err != nil {
			return err
		}
	}
	rules := fmt.Sprintf(`table inet %s-guard {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "eth0" tcp dport %s reject with tcp reset
	}
}
`, Prefix, childAPIPort)
	nft := exec.CommandContext(ctx, "ip", "netns", "exec", c.netns, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(rules)
	if out, err := nft.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", c.netns, err, bytes.TrimSpace(out))
	}
	return nil
}

// start runs a program (in netns unless it is empty) in a process group
// of its own, its output in dir/<name>.log.
func (e *env) start(name, netns, program string, args ...string) (*proc, error) {
	logPath := filepath.Join(e.dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	argv := append([]string{filepath.Join(e.bin, program)}, args...)
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

// exited reports whether p has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output returns p's log.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// stop ends p: SIGTERM to its process group, SIGKILL after 30 s.
func (p *proc) stop() error {
	if p.exited() {
		return nil
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM; killed", p.name)
	}
}

// close stops every process (last started first), deletes the network
// namespaces (their veths go with them) and the bridge, removes the
// directory, and then checks that no link or namespace of this run is
// left.
func (e *env) close() error {
	e.mu.Lock()
	procs, netns := e.procs, e.netns
	e.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].stop())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, ns := range netns {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			errs = append(errs, ip(ctx, "netns", "del", ns))
		}
	}
	if _, err := os.Stat("/sys/class/net/" + e.bridge); err == nil {
		errs = append(errs, ip(ctx, "link", "del", e.bridge))
	}
	errs = append(errs, os.RemoveAll(e.dir))
	errs = append(errs, e.leftovers())
	return errors.Join(errs...)
}

// leftovers reports any link or network namespace named with this run's
// tag.
func (e *env) leftovers() error {
	var left []string
	for _, d := range []string{"/sys/class/net", "/run/netns"} {
		entries, _ := os.ReadDir(d)
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), e.tag) {
				left = append(left, filepath.Join(d, en.Name()))
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("left after teardown: %s", strings.Join(left, ", "))
	}
	return nil
}

// freePort returns a port free on the host's bridge address.
func (e *env) freePort() (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(e.hostIP.String(), "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// poll calls cond every 250 ms until it returns nil, p (if not nil) exits,
// or ctx ends; it returns cond's last error then.
func poll(ctx context.Context, what string, p *proc, cond func() error) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s: %s exited (%v):\n%s", what, p.name, p.err, tail(p.output(), 20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
