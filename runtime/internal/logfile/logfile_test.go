package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

// clock returns times one second apart from t0.
func clock(t0 time.Time) func() time.Time {
	n := 0
	return func() time.Time {
		n++
		return t0.Add(time.Duration(n) * time.Second)
	}
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)

func TestWriterEntries(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, clock(t0))
	out, errs := w.Stream(runtime.Stdout), w.Stream(runtime.Stderr)
	io.WriteString(out, "one\ntw")
	io.WriteString(errs, "oops\n")
	io.WriteString(out, "o\n\nthree")
	long := strings.Repeat("x", MaxLine+10)
	io.WriteString(errs, long+"\n")
	if err := w.Flush(false); err != nil {
		t.Fatal(err)
	}
	io.WriteString(out, "four")
	if err := w.Flush(true); err != nil {
		t.Fatal(err)
	}
	ts := func(n int) string { return t0.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano) }
	want := ts(1) + " stdout F one\n" +
		ts(2) + " stderr F oops\n" +
		ts(3) + " stdout F two\n" +
		ts(3) + " stdout F \n" +
		ts(4) + " stderr P " + long[:MaxLine] + "\n" +
		ts(4) + " stderr F " + long[MaxLine:] + "\n" +
		ts(5) + " stdout P three\n" +
		ts(7) + " stdout F four\n"
	if got := buf.String(); got != want {
		t.Fatalf("entries:\n%q\nwant\n%q", got, want)
	}
}

func TestParse(t *testing.T) {
	e, err := Parse([]byte("2030-01-02T03:04:05.000000006Z stderr P some text \n"))
	if err != nil || !e.Time.Equal(t0) || e.Stream != runtime.Stderr || !e.Partial || string(e.Text) != "some text " {
		t.Fatalf("Parse = %+v, %v", e, err)
	}
	for _, bad := range []string{"", "nonsense", "2030-01-02T03:04:05Z", "2030-01-02T03:04:05Z stdin F x", "2030-01-02T03:04:05Z stdout X x", "yesterday stdout F x"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

// sample writes a log: stdout lines o1..o5 and stderr lines e1..e3
// alternating, one second apart, and a long stdout line split in parts.
func sample(t *testing.T) *Memory {
	m := NewMemory()
	w := NewWriter(m, clock(t0))
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(w.Stream(runtime.Stdout), "o%d\n", i)
		if i <= 3 {
			fmt.Fprintf(w.Stream(runtime.Stderr), "e%d\n", i)
		}
	}
	return m
}

func read(t *testing.T, src Source, opts runtime.LogOptions) string {
	t.Helper()
	r, err := NewReader(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReaderOptions(t *testing.T) {
	m := sample(t)
	cases := []struct {
		opts runtime.LogOptions
		want string
	}{
		{runtime.LogOptions{}, "o1\ne1\no2\ne2\no3\ne3\no4\no5\n"},
		{runtime.LogOptions{Tail: 3}, "e3\no4\no5\n"},
		{runtime.LogOptions{Tail: 100}, "o1\ne1\no2\ne2\no3\ne3\no4\no5\n"},
		{runtime.LogOptions{Tail: runtime.TailNone}, ""},
		{runtime.LogOptions{Stream: runtime.Stderr}, "e1\ne2\ne3\n"},
		{runtime.LogOptions{Stream: runtime.Stderr, Tail: 2}, "e2\ne3\n"},
		{runtime.LogOptions{Stream: runtime.Stdout, Tail: 2}, "o4\no5\n"},
		{runtime.LogOptions{Since: t0.Add(6 * time.Second)}, "e3\no4\no5\n"},
		{runtime.LogOptions{Since: t0.Add(2 * time.Second), Tail: 4}, "o3\ne3\no4\no5\n"},
		{runtime.LogOptions{LimitBytes: 7}, "o1\ne1\no"},
		{runtime.LogOptions{Tail: 1, Timestamps: true}, t0.Add(8*time.Second).Format(time.RFC3339Nano) + " o5\n"},
	}
	for _, c := range cases {
		if got := read(t, m, c.opts); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.opts, got, c.want)
		}
	}
	if _, err := NewReader(context.Background(), m, runtime.LogOptions{LimitBytes: -1}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("negative limit: %v", err)
	}
}

// TestTailAcrossChunks: lines longer than a read chunk, partial entries and
// a final entry still being written.
func TestTailAcrossChunks(t *testing.T) {
	m := NewMemory()
	w := NewWriter(m, clock(t0))
	var lines []string
	for i := 0; i < 40; i++ {
		l := fmt.Sprintf("%d-%s", i, strings.Repeat("y", i*997%(3*MaxLine)))
		lines = append(lines, l)
		io.WriteString(w.Stream(runtime.Stdout), l+"\n")
	}
	m.Write([]byte("2030-01-02T03:04:05Z stdout F incomplete")) // no newline yet
	for _, n := range []int{1, 2, 7, 39, 40, 41} {
		got := read(t, m, runtime.LogOptions{Tail: n})
		want := strings.Join(lines[max(len(lines)-n, 0):], "\n") + "\n"
		if got != want {
			t.Fatalf("tail %d: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}

// TestReadIsASnapshot: without Follow, a reader returns what the log held
// when it was opened, even while the log keeps growing under it.
func TestReadIsASnapshot(t *testing.T) {
	for _, opts := range []runtime.LogOptions{{}, {Tail: 3}} {
		m := sample(t)
		w := NewWriter(m, clock(t0.Add(time.Hour)))
		r, err := NewReader(context.Background(), m, opts)
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 3) // one line
		if _, err := io.ReadFull(r, first); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			fmt.Fprintf(w.Stream(runtime.Stdout), "later%d\n", i)
		}
		rest, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(first) + string(rest); strings.Contains(got, "later") {
			t.Fatalf("%+v: read %q, which includes lines written after the reader opened", opts, got)
		}
	}
}

func TestFollow(t *testing.T) {
	m := NewMemory()
	w := NewWriter(m, time.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := NewReader(ctx, m, runtime.LogOptions{Follow: true, Tail: runtime.TailNone})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, err := io.ReadAll(r)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}()
	io.WriteString(w.Stream(runtime.Stdout), "a\n")
	io.WriteString(w.Stream(runtime.Stderr), "b")
	w.Flush(true)
	m.Close()
	if s := <-got; s != "a\nb\n" {
		t.Fatalf("followed %q", s)
	}
	// A reader following an open log ends with the context's error.
	open := NewMemory()
	cctx, ccancel := context.WithCancel(context.Background())
	r, _ = NewReader(cctx, open, runtime.LogOptions{Follow: true})
	ccancel()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
}

// FuzzRoundTrip: whatever two streams write, reading the log back gives
// each stream's text, every line ended by a newline.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte("err\n"), 3)
	f.Add([]byte("no newline"), []byte(""), 1)
	f.Add([]byte(strings.Repeat("z", MaxLine*2+1)+"\n"), []byte("\n\n"), 5)
	f.Add([]byte("2030-01-02T03:04:05Z stdout F forged\n"), []byte("a\rb\n"), 2)
	f.Fuzz(func(t *testing.T, out, errs []byte, cuts int) {
		m := NewMemory()
		w := NewWriter(m, clock(t0))
		cuts = (cuts%7+7)%7 + 1
		for i := 0; i < cuts; i++ {
			lo, hi := len(out)*i/cuts, len(out)*(i+1)/cuts
			w.Stream(runtime.Stdout).Write(out[lo:hi])
			lo, hi = len(errs)*i/cuts, len(errs)*(i+1)/cuts
			w.Stream(runtime.Stderr).Write(errs[lo:hi])
		}
		w.Flush(true)
		norm := func(b []byte) string {
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(append([]byte(nil), b...), '\n')
			}
			return string(b)
		}
		if got := read(t, m, runtime.LogOptions{Stream: runtime.Stdout}); got != norm(out) {
			t.Fatalf("stdout: got %q, want %q", got, norm(out))
		}
		if got := read(t, m, runtime.LogOptions{Stream: runtime.Stderr}); got != norm(errs) {
			t.Fatalf("stderr: got %q, want %q", got, norm(errs))
		}
		all := read(t, m, runtime.LogOptions{})
		if len(all) != len(norm(out))+len(norm(errs)) {
			t.Fatalf("both streams: %d bytes, want %d", len(all), len(norm(out))+len(norm(errs)))
		}
		for n := 1; n <= 3; n++ {
			tail := read(t, m, runtime.LogOptions{Tail: n})
			if !strings.HasSuffix(all, tail) || strings.Count(tail, "\n") > n+2*MaxLine {
				t.Fatalf("tail %d = %q is not a suffix of %q", n, tail, all)
			}
		}
	})
}
