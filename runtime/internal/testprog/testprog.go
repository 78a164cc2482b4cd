// Package testprog is the tiny scripted program the runtime tests run in
// containers. The real runtime runs it as the static binary testbin; the fake
// runtime interprets the same script in process (its System being the
// simulated process), so one contract suite drives both.
//
// The script language is documented in package runtimetest.
package testprog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Exit codes for signals, as the runtime reports them (128 + signal number).
const (
	ExitTerm = 143
	ExitKill = 137
)

// IO is what the program may touch.
type IO struct {
	// Stdin is the standard input (nil: empty).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Term is closed when the process receives SIGTERM.
	Term <-chan struct{}
	// Getenv reads the environment.
	Getenv func(string) string
	// Alloc, when set, is told about memory the alloc step would use,
	// instead of the step allocating it (for simulated processes).
	Alloc func(bytes int64)
	// Sys is the operating system; nil means OS.
	Sys System
}

// arity of each step.
var steps = map[string]int{
	"print": 1, "eprint": 1, "fill": 1, "efill": 1, "count": 1, "env": 1, "sleep": 1, "ignore-term": 0, "on-term": 1,
	"serve": 1, "http": 1, "get": 1, "alloc": 1, "wait": 0, "exit": 1,
	"cat": 1, "write": 2, "wfill": 2, "rm": 1, "hostname": 0, "id": 0, "caps": 0, "seccomp": 0, "limits": 0,
	"tty": 0, "winsize": 2, "stdin": 0,
}

// Check reports whether args is a valid script.
func Check(args []string) error {
	for i := 0; i < len(args); i++ {
		n, ok := steps[args[i]]
		if !ok {
			return fmt.Errorf("testprog: unknown step %q at %d", args[i], i)
		}
		if i+n >= len(args) {
			return fmt.Errorf("testprog: step %q needs %d arguments", args[i], n)
		}
		i += n
	}
	return nil
}

// Run runs the script in args. ctx ending means the process was killed.
func Run(ctx context.Context, args []string, pio IO) int {
	if err := Check(args); err != nil {
		fmt.Fprintln(pio.Stderr, err)
		return 2
	}
	p := &proc{ctx: ctx, io: pio, sys: pio.Sys, term: pio.Term}
	if p.sys == nil {
		p.sys = OS{}
	}
	if p.io.Stdin == nil {
		p.io.Stdin = strings.NewReader("")
	}
	defer func() {
		for _, l := range p.listeners {
			l.Close()
		}
	}()
	for i := 0; i < len(args); i++ {
		step := args[i]
		arg := args[i+1 : i+1+steps[step]]
		i += steps[step]
		if code, done := p.step(step, arg); done {
			return code
		}
	}
	return 0
}

type proc struct {
	ctx       context.Context
	io        IO
	sys       System
	term      <-chan struct{}
	onTerm    time.Duration
	trapped   bool
	listeners []net.Listener
	keep      [][]byte
	lines     chan string // stdin's lines, once the stdin step started reading
}

// block waits for d (forever if d < 0) or a signal; it returns an exit
// code when the process must end.
func (p *proc) block(d time.Duration) (int, bool) {
	var tc <-chan time.Time
	if d >= 0 {
		tc = p.sys.After(d)
	}
	select {
	case <-tc:
		return 0, false
	case <-p.term:
		return p.terminated()
	case <-p.ctx.Done():
		return ExitKill, true
	}
}

// terminated handles SIGTERM: exit 143, or as on-term said.
func (p *proc) terminated() (int, bool) {
	if !p.trapped {
		return ExitTerm, true
	}
	fmt.Fprintln(p.io.Stdout, "terminating")
	p.term = nil
	select {
	case <-p.sys.After(p.onTerm):
		return 0, true
	case <-p.ctx.Done():
		return ExitKill, true
	}
}

// fail reports a bad argument: exit 2.
func (p *proc) fail(step, what string) (int, bool) {
	fmt.Fprintf(p.io.Stderr, "testprog: %s: %s\n", step, what)
	return 2, true
}

// step runs one step; done reports that the program ends with code.
func (p *proc) step(step string, arg []string) (code int, done bool) {
	out := p.io.Stdout
	switch step {
	case "print":
		fmt.Fprintln(out, arg[0])
	case "eprint":
		fmt.Fprintln(p.io.Stderr, arg[0])
	case "env":
		fmt.Fprintln(out, p.io.Getenv(arg[0]))
	case "fill", "efill":
		kib, err := strconv.Atoi(arg[0])
		if err != nil || kib < 0 {
			return p.fail(step, "bad size "+arg[0])
		}
		w, c := out, byte('o')
		if step == "efill" {
			w, c = p.io.Stderr, 'e'
		}
		growPipe(w, kib<<10)
		w.Write(FillData(c, kib))
	case "count":
		n, err := strconv.Atoi(arg[0])
		if err != nil || n < 0 {
			return p.fail(step, "bad count "+arg[0])
		}
		w := bufio.NewWriter(out)
		for i := 1; i <= n; i++ {
			w.WriteString(strconv.Itoa(i))
			w.WriteByte('\n')
		}
		w.Flush()
	case "sleep", "on-term":
		d, err := time.ParseDuration(arg[0])
		if err != nil {
			return p.fail(step, err.Error())
		}
		if step == "on-term" {
			p.trapped, p.onTerm = true, d
			return 0, false
		}
		return p.block(d)
	case "ignore-term":
		p.term = nil
	case "serve", "http":
		l, err := p.sys.Listen(arg[0])
		if err != nil {
			fmt.Fprintln(p.io.Stderr, "testprog: "+step+":", err)
			return 1, true
		}
		p.listeners = append(p.listeners, l)
		if step == "serve" {
			go serve(l)
		} else {
			go serveHTTP(l, p.sys)
		}
	case "get":
		line, err := get(p.ctx, p.sys, arg[0])
		if err != nil {
			fmt.Fprintln(p.io.Stderr, "testprog: get:", err)
			return 1, true
		}
		fmt.Fprintln(out, line)
	case "alloc":
		mib, err := strconv.Atoi(arg[0])
		if err != nil || mib < 0 {
			return p.fail(step, "bad size "+arg[0])
		}
		if p.io.Alloc != nil {
			p.io.Alloc(int64(mib) << 20)
			return 0, false
		}
		buf := make([]byte, mib<<20)
		for j := 0; j < len(buf); j += 4096 {
			buf[j] = 1
		}
		p.keep = append(p.keep, buf)
	case "wait":
		return p.block(-1)
	case "exit":
		code, err := strconv.Atoi(arg[0])
		if err != nil {
			return p.fail(step, "bad code "+arg[0])
		}
		return code, true
	default:
		return p.sysStep(step, arg)
	}
	return 0, false
}

// FillLine is the length of a line the fill and efill steps write,
// newline included.
const FillLine = 64

// FillData is what a fill step writes: kib kibibytes of lines of c.
func FillData(c byte, kib int) []byte {
	b := bytes.Repeat([]byte{c}, kib<<10)
	for i := FillLine - 1; i < len(b); i += FillLine {
		b[i] = '\n'
	}
	return b
}

func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, "pong\n")
		c.Close()
	}
}

func get(ctx context.Context, sys System, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		c, err := sys.Dial(ctx, addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil {
				return line[:len(line)-1], nil
			}
			err = rerr
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s: %w", addr, err)
		case <-sys.After(50 * time.Millisecond):
		}
	}
}
