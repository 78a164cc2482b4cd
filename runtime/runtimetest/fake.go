package runtimetest

import (
	"context"
	"net"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/internal/testprog"
)

// FakeTestBinary simulates TestBinary on the fake runtime: it interprets
// the same scripts against the simulated process's file system, network,
// identity, limits and terminal, so that the fake passes the contract suite
// the real program passes on containerd. Register it with
// fake.WithProgram(TestBinary, FakeTestBinary).
func FakeTestBinary(ctx context.Context, p *fake.Process) int {
	return testprog.Run(ctx, p.Args[1:], testprog.IO{
		Stdin: p.Stdin, Stdout: p.Stdout, Stderr: p.Stderr, Term: p.Term, Getenv: p.Getenv, Alloc: p.UseMemory,
		Sys: fakeSys{p},
	})
}

// fakeSys is the operating system of a simulated process.
type fakeSys struct{ p *fake.Process }

func (s fakeSys) ReadFile(path string) ([]byte, error)     { return s.p.ReadFile(path) }
func (s fakeSys) WriteFile(path string, data []byte) error { return s.p.WriteFile(path, data) }
func (s fakeSys) Remove(path string) error                 { return s.p.Remove(path) }
func (s fakeSys) Hostname() (string, error)                { return s.p.Hostname, nil }
func (s fakeSys) Listen(addr string) (net.Listener, error) { return s.p.Listen(addr) }
func (s fakeSys) After(d time.Duration) <-chan time.Time   { return s.p.After(d) }
func (s fakeSys) Dial(ctx context.Context, addr string) (net.Conn, error) {
	return s.p.Dial(ctx, addr)
}

func (s fakeSys) Terminal() (bool, int, int) {
	ts := s.p.TermSize()
	return s.p.TTY, int(ts.Width), int(ts.Height)
}

func (s fakeSys) Cred() (testprog.Cred, error) {
	c := s.p.Cred
	mode := 0
	if c.Seccomp.Type != runtime.SeccompUnconfined {
		mode = 2
	}
	return testprog.Cred{UID: c.UID, GID: c.GID, Groups: c.Groups, CapEff: runtime.CapabilityMask(c.Capabilities), NoNewPrivs: c.NoNewPrivileges, Seccomp: mode}, nil
}

// Limits reports the container's resources as cgroup v1 shows them: -1 for
// no limit, the kernel's defaults for CPU shares and period.
func (s fakeSys) Limits() (testprog.Limits, error) {
	r := s.p.Resources
	l := testprog.Limits{MemoryMax: -1, PidsMax: -1, CPUQuota: -1, CPUPeriod: runtime.DefaultCPUPeriod, CPUShares: 1024}
	if r.MemoryLimit > 0 {
		l.MemoryMax = r.MemoryLimit
	}
	if r.PidsLimit > 0 {
		l.PidsMax = r.PidsLimit
	}
	if r.CPUQuota > 0 {
		l.CPUQuota = r.CPUQuota
		if r.CPUPeriod > 0 {
			l.CPUPeriod = int64(r.CPUPeriod)
		}
	}
	if r.CPUShares > 0 {
		l.CPUShares = int64(r.CPUShares)
	}
	return l, nil
}
