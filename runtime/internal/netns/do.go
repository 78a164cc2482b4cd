package netns

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has joined the network namespace at path
// (the current one when path is empty), and returns fn's error. Sockets fn
// creates stay in that namespace. The thread is not reused afterwards.
func Do(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	ns, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", path, err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: Go ends it with this goroutine
		// instead of running other goroutines in the namespace.
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns: enter %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Dial connects to addr over TCP from inside the network namespace at path
// (the current one when empty). addr must hold an IP address, not a name.
func Dial(ctx context.Context, path, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) == nil {
		return nil, fmt.Errorf("netns: dial %q: want IP:port", addr)
	}
	var c net.Conn
	err = Do(path, func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}

// InterfaceStats counts one interface's traffic, as /proc/net/dev does.
type InterfaceStats struct {
	Name                                 string
	RxBytes, RxErrors, TxBytes, TxErrors uint64
}

// Stats reads the interfaces of the network namespace at path.
func Stats(path string) ([]InterfaceStats, error) {
	var data []byte
	err := Do(path, func() error {
		var err error
		data, err = os.ReadFile("/proc/thread-self/net/dev")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: interface statistics of %s: %w", path, err)
	}
	return ParseNetDev(data)
}

// ParseNetDev parses the contents of /proc/net/dev.
func ParseNetDev(data []byte) ([]InterfaceStats, error) {
	var out []InterfaceStats
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue // the two header lines
		}
		if n := strings.TrimSpace(name); n == "" || strings.ContainsFunc(n, func(r rune) bool { return r <= ' ' }) {
			return nil, fmt.Errorf("netns: /proc/net/dev: bad interface name %q", name)
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("netns: /proc/net/dev line for %q has %d fields, want 16", strings.TrimSpace(name), len(f))
		}
		var n [16]uint64
		for i := range n {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("netns: /proc/net/dev line for %q: field %d: %w", strings.TrimSpace(name), i, err)
			}
			n[i] = v
		}
		out = append(out, InterfaceStats{Name: strings.TrimSpace(name), RxBytes: n[0], RxErrors: n[2], TxBytes: n[8], TxErrors: n[10]})
	}
	return out, s.Err()
}
