package logfile

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// naiveTail is the obvious definition TailOffset must agree with.
func naiveTail(data []byte, n int) []byte {
	if n <= 0 || len(data) == 0 {
		return data
	}
	body := data
	if body[len(body)-1] == '\n' {
		body = body[:len(body)-1]
	}
	lines := bytes.Split(body, []byte("\n"))
	if len(lines) <= n {
		return data
	}
	skip := 0
	for _, l := range lines[:len(lines)-n] {
		skip += len(l) + 1
	}
	return data[skip:]
}

func TestTail(t *testing.T) {
	long := strings.Repeat("x", 20000)
	cases := []struct {
		data string
		n    int
		want string
	}{
		{"", 3, ""},
		{"a\nb\nc\n", 0, "a\nb\nc\n"},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"\n\n\n", 1, "\n"},
		{long + "\n" + long + "\n", 1, long + "\n"},
	}
	for _, c := range cases {
		if got := string(Tail([]byte(c.data), c.n)); got != c.want {
			t.Errorf("Tail(%.10q, %d) = %.20q, want %.20q", c.data, c.n, got, c.want)
		}
	}
}

func FuzzTail(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), 2)
	f.Add([]byte("no newline"), 1)
	f.Add([]byte("\n\n"), 3)
	f.Add([]byte(strings.Repeat("line\n", 3000)), 2500)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		got, want := Tail(data, n), naiveTail(data, n)
		if !bytes.Equal(got, want) {
			t.Fatalf("Tail(%q, %d) = %q, want %q", data, n, got, want)
		}
	})
}

func TestFollower(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	w, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString("one\n")
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	r := NewFollower(context.Background(), f, done, 5*time.Millisecond)
	defer r.Close()
	got := make(chan string)
	go func() {
		b, err := io.ReadAll(r)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	}()
	w.WriteString("two\n")
	select {
	case s := <-got:
		t.Fatalf("reader ended before done: %q", s)
	case <-time.After(50 * time.Millisecond):
	}
	w.WriteString("three\n")
	close(done)
	select {
	case s := <-got:
		if s != "one\ntwo\nthree\n" {
			t.Fatalf("followed %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader did not end after done")
	}
}

func TestFollowerContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	os.WriteFile(p, []byte("x"), 0o600)
	f, _ := os.Open(p)
	ctx, cancel := context.WithCancel(context.Background())
	r := NewFollower(ctx, f, nil, time.Millisecond)
	defer r.Close()
	cancel()
	b, err := io.ReadAll(r)
	if err != context.Canceled || string(b) != "x" {
		t.Fatalf("ReadAll = %q, %v; want \"x\", context.Canceled", b, err)
	}
}
