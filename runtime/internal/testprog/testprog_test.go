package testprog

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

func run(ctx context.Context, term chan struct{}, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(ctx, args, IO{Stdout: &out, Stderr: &errb, Term: term, Getenv: func(k string) string { return "v-" + k }})
	return code, out.String(), errb.String()
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	if code, out, errs := run(ctx, nil, "print", "a", "eprint", "b", "env", "K", "exit", "3", "print", "never"); code != 3 || out != "a\nv-K\n" || errs != "b\n" {
		t.Fatalf("got %d %q %q", code, out, errs)
	}
	if code, out, errs := run(ctx, nil, "fill", "2", "efill", "1", "print", "end"); code != 0 || len(out) != 2048+4 ||
		strings.Count(out, "o") != 2*1024/FillLine*(FillLine-1) || strings.Count(out, "\n") != 2*1024/FillLine+1 ||
		len(errs) != 1024 || strings.Count(errs, "e") != 1024/FillLine*(FillLine-1) || !strings.HasSuffix(errs, "\n") {
		t.Fatalf("fill: got %d, %d bytes out, %d bytes err", code, len(out), len(errs))
	}
	if code, _, _ := run(ctx, nil, "print", "x"); code != 0 {
		t.Fatalf("end of script exits %d", code)
	}
	term := make(chan struct{})
	close(term)
	if code, _, _ := run(ctx, term, "wait"); code != ExitTerm {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	killed, cancel := context.WithCancel(ctx)
	cancel()
	if code, _, _ := run(killed, term, "ignore-term", "wait"); code != ExitKill {
		t.Fatalf("ignoring SIGTERM then killed: exit %d", code)
	}
	for _, bad := range [][]string{{"bogus"}, {"print"}, {"exit", "x"}, {"sleep", "forever"}, {"fill", "-1"}, {"efill", "x"}} {
		if code, _, errs := run(ctx, nil, bad...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 with a message", bad, code, errs)
		}
	}
}

func TestServeGet(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go run(ctx, nil, "serve", addr, "wait")
	if code, out, errs := run(context.Background(), nil, "get", addr); code != 0 || out != "pong\n" {
		t.Fatalf("get: %d %q %q", code, out, errs)
	}
}
