package testprog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OS is the real operating system.
type OS struct{}

var _ System = OS{}

// ReadFile reads a file.
func (OS) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// WriteFile writes a file.
func (OS) WriteFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// Remove removes a file.
func (OS) Remove(path string) error { return os.Remove(path) }

// Hostname returns the kernel's host name.
func (OS) Hostname() (string, error) { return os.Hostname() }

// Listen listens on a TCP address.
func (OS) Listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// Dial connects to a TCP address.
func (OS) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// After waits in real time.
func (OS) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Terminal asks stdout's terminal for its size.
func (OS) Terminal() (bool, int, int) {
	ws, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ)
	if err != nil {
		return false, 0, 0
	}
	return true, int(ws.Col), int(ws.Row)
}

// Cred reads /proc/self/status.
func (OS) Cred() (Cred, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return Cred{}, err
	}
	var c Cred
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ":")
		f := strings.Fields(v)
		switch {
		case k == "Uid" && len(f) > 1:
			c.UID, err = strconv.ParseInt(f[1], 10, 64)
		case k == "Gid" && len(f) > 1:
			c.GID, err = strconv.ParseInt(f[1], 10, 64)
		case k == "Groups":
			for _, g := range f {
				n, perr := strconv.ParseInt(g, 10, 64)
				if perr != nil {
					err = perr
				}
				c.Groups = append(c.Groups, n)
			}
		case k == "CapEff" && len(f) == 1:
			c.CapEff, err = strconv.ParseUint(f[0], 16, 64)
		case k == "NoNewPrivs" && len(f) == 1:
			c.NoNewPrivs = f[0] == "1"
		case k == "Seccomp" && len(f) == 1:
			c.Seccomp, err = strconv.Atoi(f[0])
		}
		if err != nil {
			return Cred{}, fmt.Errorf("/proc/self/status %s: %w", k, err)
		}
	}
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i] < c.Groups[j] })
	return c, nil
}

// Limits reads the cgroup files the container sees (v1 or v2).
func (OS) Limits() (Limits, error) {
	read := func(p string) (string, error) {
		b, err := os.ReadFile(p)
		return strings.TrimSpace(string(b)), err
	}
	num := func(s string) (int64, error) {
		if s == "max" {
			return -1, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil && n >= 1<<62 { // v1's "no limit"
			n = -1
		}
		return n, err
	}
	var l Limits
	var errs []error
	get := func(dst *int64, p string) {
		s, err := read(p)
		if err == nil {
			*dst, err = num(s)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		get(&l.MemoryMax, "/sys/fs/cgroup/memory.max")
		get(&l.PidsMax, "/sys/fs/cgroup/pids.max")
		get(&l.CPUWeight, "/sys/fs/cgroup/cpu.weight")
		s, err := read("/sys/fs/cgroup/cpu.max")
		if err != nil {
			return Limits{}, err
		}
		q, p, _ := strings.Cut(s, " ")
		if l.CPUQuota, err = num(q); err != nil {
			return Limits{}, err
		}
		if l.CPUPeriod, err = num(p); err != nil {
			return Limits{}, err
		}
	} else {
		get(&l.MemoryMax, "/sys/fs/cgroup/memory/memory.limit_in_bytes")
		get(&l.PidsMax, "/sys/fs/cgroup/pids/pids.max")
		get(&l.CPUShares, "/sys/fs/cgroup/cpu/cpu.shares")
		get(&l.CPUQuota, "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
		get(&l.CPUPeriod, "/sys/fs/cgroup/cpu/cpu.cfs_period_us")
	}
	if len(errs) > 0 {
		return Limits{}, errs[0]
	}
	return l, nil
}
