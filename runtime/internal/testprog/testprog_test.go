package testprog

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
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
	if code, out, _ := run(ctx, nil, "count", "3"); code != 0 || out != "1\n2\n3\n" {
		t.Fatalf("count 3: %d %q", code, out)
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

// memSys is a System in memory.
type memSys struct {
	files map[string][]byte
	w, h  int
}

func (m *memSys) ReadFile(p string) ([]byte, error) {
	if b, ok := m.files[p]; ok {
		return b, nil
	}
	return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
}
func (m *memSys) WriteFile(p string, b []byte) error {
	if strings.HasPrefix(p, "/ro/") {
		return &fs.PathError{Op: "open", Path: p, Err: syscall.EROFS}
	}
	m.files[p] = b
	return nil
}
func (m *memSys) Remove(p string) error                  { delete(m.files, p); return nil }
func (m *memSys) Hostname() (string, error)              { return "box", nil }
func (m *memSys) Terminal() (bool, int, int)             { return m.w > 0, m.w, m.h }
func (m *memSys) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (m *memSys) Listen(a string) (net.Listener, error)  { return net.Listen("tcp", a) }
func (m *memSys) Dial(ctx context.Context, a string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", a)
}
func (m *memSys) Cred() (Cred, error) {
	return Cred{UID: 1000, GID: 3000, Groups: []int64{3000, 4000}, CapEff: 0x5, NoNewPrivs: true}, nil
}
func (m *memSys) Limits() (Limits, error) {
	return Limits{MemoryMax: 64 << 20, PidsMax: -1, CPUQuota: 50000, CPUPeriod: 100000, CPUShares: 512}, nil
}

func TestSystemSteps(t *testing.T) {
	sys := &memSys{files: map[string][]byte{"/etc/hostname": []byte("box\n")}, w: 80, h: 24}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{
		"cat", "/etc/hostname", "cat", "/missing", "write", "/data/x", "hello", "cat", "/data/x", "print", "",
		"write", "/ro/y", "z", "wfill", "/data/big", "2", "rm", "/data/x", "cat", "/data/x",
		"hostname", "id", "caps", "limits", "tty", "winsize", "80", "24", "stdin",
	}, IO{Stdin: strings.NewReader("one\ntwo\r\n"), Stdout: &out, Stderr: &errb, Sys: sys})
	want := "box\ncat /missing: no such file or directory\nwrote /data/x\nhello\n" +
		"write /ro/y: read-only file system\nwrote /data/big\ncat /data/x: no such file or directory\n" +
		"box\nuid=1000 gid=3000 groups=3000,4000\ncapeff=0000000000000005 nnp=1\n" +
		"memory=67108864 pids=max cfs=50000/100000 shares=512\ntty\nwinsize 80x24\nstdin: one\nstdin: two\nstdin: EOF\n"
	if code != 0 || out.String() != want || errb.Len() != 0 {
		t.Fatalf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %q", code, out.String(), want, errb.String())
	}
	if len(sys.files["/data/big"]) != 2048 {
		t.Fatalf("wfill wrote %d bytes", len(sys.files["/data/big"]))
	}
}

// TestOnTerm: a trapped SIGTERM prints, waits its delay and exits 0.
func TestOnTerm(t *testing.T) {
	term := make(chan struct{})
	close(term)
	var out bytes.Buffer
	code := Run(context.Background(), []string{"on-term", "1ms", "wait"}, IO{Stdout: &out, Stderr: &out, Term: term, Sys: &memSys{}})
	if code != 0 || out.String() != "terminating\n" {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
}

func TestHTTP(t *testing.T) {
	sys := &memSys{files: map[string][]byte{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serveHTTP(l, sys)
	defer l.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + l.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path string
		code int
		body string
	}{{"/", 200, "box\n"}, {"/healthz", 200, "ok\n"}, {"/readyz", 200, "ready\n"}, {"/code/503", 503, "503\n"}, {"/nope", 404, "404 page not found\n"}} {
		if code, body := get(c.path); code != c.code || body != c.body {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, code, body, c.code, c.body)
		}
	}
	sys.files[NotReadyFile] = nil
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("readyz with %s: %d", NotReadyFile, code)
	}
}
