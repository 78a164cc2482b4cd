package testprog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errText is err as the script prints it: the bare errno text when there is
// one, so real and simulated processes print the same.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// sysStep runs the steps that ask the System.
func (p *proc) sysStep(step string, arg []string) (int, bool) {
	out := p.io.Stdout
	switch step {
	case "cat":
		b, err := p.sys.ReadFile(arg[0])
		if err != nil {
			fmt.Fprintf(out, "cat %s: %s\n", arg[0], errText(err))
			return 0, false
		}
		out.Write(b)
	case "write", "wfill":
		data := []byte(arg[1])
		if step == "wfill" {
			kib, err := strconv.Atoi(arg[1])
			if err != nil || kib < 0 {
				return p.fail(step, "bad size "+arg[1])
			}
			data = bytes.Repeat([]byte{'f'}, kib<<10)
		}
		if err := p.sys.WriteFile(arg[0], data); err != nil {
			fmt.Fprintf(out, "%s %s: %s\n", step, arg[0], errText(err))
		} else {
			fmt.Fprintf(out, "wrote %s\n", arg[0])
		}
	case "rm":
		if err := p.sys.Remove(arg[0]); err != nil {
			fmt.Fprintf(out, "rm %s: %s\n", arg[0], errText(err))
		}
	case "hostname":
		h, err := p.sys.Hostname()
		if err != nil {
			fmt.Fprintln(p.io.Stderr, "testprog: hostname:", err)
			return 1, true
		}
		fmt.Fprintln(out, h)
	case "id", "caps", "seccomp":
		c, err := p.sys.Cred()
		if err != nil {
			fmt.Fprintln(p.io.Stderr, "testprog: "+step+":", err)
			return 1, true
		}
		if step == "seccomp" {
			fmt.Fprintf(out, "seccomp=%d\n", c.Seccomp)
			return 0, false
		}
		if step == "caps" {
			nnp := 0
			if c.NoNewPrivs {
				nnp = 1
			}
			fmt.Fprintf(out, "capeff=%016x nnp=%d\n", c.CapEff, nnp)
			return 0, false
		}
		groups := make([]string, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = strconv.FormatInt(g, 10)
		}
		fmt.Fprintf(out, "uid=%d gid=%d groups=%s\n", c.UID, c.GID, strings.Join(groups, ","))
	case "limits":
		l, err := p.sys.Limits()
		if err != nil {
			fmt.Fprintln(p.io.Stderr, "testprog: limits:", err)
			return 1, true
		}
		fmt.Fprintln(out, FormatLimits(l))
	case "tty":
		if ok, _, _ := p.sys.Terminal(); ok {
			fmt.Fprintln(out, "tty")
		} else {
			fmt.Fprintln(out, "notty")
		}
	case "winsize":
		w, err1 := strconv.Atoi(arg[0])
		h, err2 := strconv.Atoi(arg[1])
		if err1 != nil || err2 != nil {
			return p.fail(step, "bad size "+arg[0]+" "+arg[1])
		}
		deadline := p.sys.After(20 * time.Second)
		for {
			_, gw, gh := p.sys.Terminal()
			if gw == w && gh == h {
				fmt.Fprintf(out, "winsize %dx%d\n", w, h)
				return 0, false
			}
			select {
			case <-deadline:
				fmt.Fprintf(out, "winsize timeout: %dx%d\n", gw, gh)
				return 1, true
			case <-p.ctx.Done():
				return ExitKill, true
			case <-p.sys.After(10 * time.Millisecond):
			}
		}
	case "stdin":
		return p.readStdin()
	}
	return 0, false
}

// readStdin prints the lines of stdin until its end; a signal ends the
// program meanwhile.
func (p *proc) readStdin() (int, bool) {
	if p.lines == nil {
		lines := make(chan string)
		p.lines = lines
		go func() {
			defer close(lines)
			s := bufio.NewScanner(p.io.Stdin)
			for s.Scan() {
				select {
				case lines <- strings.TrimSuffix(s.Text(), "\r"):
				case <-p.ctx.Done():
					return
				}
			}
		}()
	}
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				fmt.Fprintln(p.io.Stdout, "stdin: EOF")
				return 0, false
			}
			fmt.Fprintf(p.io.Stdout, "stdin: %s\n", l)
		case <-p.term:
			return p.terminated()
		case <-p.ctx.Done():
			return ExitKill, true
		}
	}
}

// FormatLimits is how the limits step prints l.
func FormatLimits(l Limits) string {
	n := func(v int64) string {
		if v < 0 {
			return "max"
		}
		return strconv.FormatInt(v, 10)
	}
	cpu := "shares=" + n(l.CPUShares)
	if l.CPUWeight != 0 {
		cpu = "weight=" + n(l.CPUWeight)
	}
	return fmt.Sprintf("memory=%s pids=%s cfs=%s/%s %s", n(l.MemoryMax), n(l.PidsMax), n(l.CPUQuota), n(l.CPUPeriod), cpu)
}
