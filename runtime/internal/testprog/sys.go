package testprog

import (
	"context"
	"net"
	"time"
)

// System is what the program asks of its operating system beyond its
// standard streams. OS is the real one; a simulated process supplies its
// own (the fake runtime's Process).
type System interface {
	ReadFile(path string) ([]byte, error)
	WriteFile(path string, data []byte) error
	Remove(path string) error
	Hostname() (string, error)
	// Cred reports the process's identity and privileges.
	Cred() (Cred, error)
	// Limits reports the cgroup limits the process runs under.
	Limits() (Limits, error)
	// Terminal reports whether stdout is a terminal, and its size.
	Terminal() (ok bool, width, height int)
	Listen(addr string) (net.Listener, error)
	Dial(ctx context.Context, addr string) (net.Conn, error)
	After(d time.Duration) <-chan time.Time
}

// Cred is a process's identity and privileges, as /proc/self/status shows
// them.
type Cred struct {
	// UID and GID are the effective user and group.
	UID, GID int64
	// Groups are the supplementary groups.
	Groups []int64
	// CapEff is the effective capability mask.
	CapEff uint64
	// NoNewPrivs is the no_new_privs bit.
	NoNewPrivs bool
	// Seccomp is the seccomp mode: 0 none, 2 a filter.
	Seccomp int
}

// Limits are a process's cgroup limits; -1 means none.
type Limits struct {
	MemoryMax int64
	PidsMax   int64
	// CPUQuota and CPUPeriod are the CFS quota and period in microseconds.
	CPUQuota, CPUPeriod int64
	// CPUShares is cgroup v1's cpu.shares; CPUWeight cgroup v2's cpu.weight
	// (0 when the other applies).
	CPUShares, CPUWeight int64
}
