// Package testprog is the tiny scripted program the runtime tests run in
// containers. The real runtime runs it as the static binary testbin; the fake
// runtime interprets the same script in process, so one contract suite drives
// both.
//
// A script is a list of steps, each a word followed by its argument:
//
//	print TEXT      write TEXT and a newline to stdout
//	eprint TEXT     write TEXT and a newline to stderr
//	fill KIB        write KIB kibibytes to stdout: lines of 63 'o' and a newline
//	                (first growing a pipe stdout to hold them, up to 1 MiB)
//	efill KIB       the same on stderr, with lines of 'e'
//	env KEY         print the value of the environment variable KEY
//	sleep DURATION  sleep (a time.ParseDuration string)
//	ignore-term     ignore SIGTERM from now on
//	serve ADDR      answer every TCP connection on ADDR with "pong\n" (in the background)
//	get ADDR        connect to ADDR (retrying until it answers) and print the first line read
//	alloc MIB       allocate and touch MIB mebibytes of memory
//	wait            block until signalled
//	exit CODE       exit with CODE
//
// Reaching the end of the script exits 0. SIGTERM (unless ignored) exits 143,
// a kill exits 137, as a signalled process is reported by the runtime.
package testprog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Exit codes for signals, as the runtime reports them (128 + signal number).
const (
	ExitTerm = 143
	ExitKill = 137
)

// IO is what the program may touch.
type IO struct {
	Stdout, Stderr io.Writer
	// Term is closed when the process receives SIGTERM.
	Term <-chan struct{}
	// Getenv reads the environment.
	Getenv func(string) string
	// Alloc, when set, is told about memory the alloc step would use,
	// instead of the step allocating it (for simulated processes).
	Alloc func(bytes int64)
}

// arity of each step.
var steps = map[string]bool{
	"print": true, "eprint": true, "fill": true, "efill": true, "env": true, "sleep": true, "ignore-term": false,
	"serve": true, "get": true, "alloc": true, "wait": false, "exit": true,
}

// Check reports whether args is a valid script.
func Check(args []string) error {
	for i := 0; i < len(args); i++ {
		hasArg, ok := steps[args[i]]
		if !ok {
			return fmt.Errorf("testprog: unknown step %q at %d", args[i], i)
		}
		if hasArg {
			i++
			if i >= len(args) {
				return fmt.Errorf("testprog: step %q needs an argument", args[i-1])
			}
		}
	}
	return nil
}

// Run runs the script in args. ctx ending means the process was killed.
func Run(ctx context.Context, args []string, pio IO) int {
	if err := Check(args); err != nil {
		fmt.Fprintln(pio.Stderr, err)
		return 2
	}
	term := pio.Term
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	// block waits for d (forever if d < 0) or a signal; it returns an exit
	// code when the process must end.
	block := func(d time.Duration) (int, bool) {
		var tc <-chan time.Time
		if d >= 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			tc = t.C
		}
		select {
		case <-tc:
			return 0, false
		case <-term:
			return ExitTerm, true
		case <-ctx.Done():
			return ExitKill, true
		}
	}
	for i := 0; i < len(args); i++ {
		step, arg := args[i], ""
		if steps[step] {
			i++
			arg = args[i]
		}
		switch step {
		case "print":
			fmt.Fprintln(pio.Stdout, arg)
		case "eprint":
			fmt.Fprintln(pio.Stderr, arg)
		case "env":
			fmt.Fprintln(pio.Stdout, pio.Getenv(arg))
		case "fill", "efill":
			kib, err := strconv.Atoi(arg)
			if err != nil || kib < 0 {
				fmt.Fprintln(pio.Stderr, "testprog: "+step+": bad size", arg)
				return 2
			}
			w, c := pio.Stdout, byte('o')
			if step == "efill" {
				w, c = pio.Stderr, 'e'
			}
			growPipe(w, kib<<10)
			w.Write(FillData(c, kib))
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				fmt.Fprintln(pio.Stderr, "testprog: sleep:", err)
				return 2
			}
			if code, done := block(d); done {
				return code
			}
		case "ignore-term":
			term = nil
		case "serve":
			l, err := net.Listen("tcp", arg)
			if err != nil {
				fmt.Fprintln(pio.Stderr, "testprog: serve:", err)
				return 1
			}
			listeners = append(listeners, l)
			go serve(l)
		case "get":
			line, err := get(ctx, arg)
			if err != nil {
				fmt.Fprintln(pio.Stderr, "testprog: get:", err)
				return 1
			}
			fmt.Fprintln(pio.Stdout, line)
		case "alloc":
			mib, err := strconv.Atoi(arg)
			if err != nil || mib < 0 {
				fmt.Fprintln(pio.Stderr, "testprog: alloc: bad size", arg)
				return 2
			}
			if pio.Alloc != nil {
				pio.Alloc(int64(mib) << 20)
				continue
			}
			buf := make([]byte, mib<<20)
			for j := 0; j < len(buf); j += 4096 {
				buf[j] = 1
			}
			defer func() { _ = buf[len(buf)/2] }()
		case "wait":
			code, _ := block(-1)
			return code
		case "exit":
			code, err := strconv.Atoi(arg)
			if err != nil {
				fmt.Fprintln(pio.Stderr, "testprog: exit: bad code", arg)
				return 2
			}
			return code
		}
	}
	return 0
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

func get(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
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
		case <-time.After(50 * time.Millisecond):
		}
	}
}
