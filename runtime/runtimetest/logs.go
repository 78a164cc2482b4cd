package runtimetest

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

func testLogOptions(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("logopts"))
	id := MustStart(ctx, t, rt, sb, ctr("main", "print", "one", "sleep", "50ms", "eprint", "two", "sleep", "50ms",
		"print", "three", "sleep", "50ms", "eprint", "four", "exit", "0"))
	st := WaitState(ctx, t, rt, id, runtime.ContainerExited)
	stamped := ReadLogs(ctx, t, rt, id, runtime.LogOptions{Timestamps: true})
	lines := strings.Split(strings.TrimSuffix(stamped, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("timestamped log %q, want 4 lines", stamped)
	}
	var times []time.Time
	for i, l := range lines {
		ts, text, _ := strings.Cut(l, " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || text != []string{"one", "two", "three", "four"}[i] {
			t.Fatalf("line %q: want an RFC 3339 time and %s (%v)", l, []string{"one", "two", "three", "four"}[i], err)
		}
		if tm.Before(st.StartedAt.Add(-time.Second)) || tm.After(st.FinishedAt.Add(time.Second)) || (i > 0 && tm.Before(times[i-1])) {
			t.Fatalf("line %d written at %v, outside the run %v..%v or before the line before", i, tm, st.StartedAt, st.FinishedAt)
		}
		times = append(times, tm)
	}
	cases := []struct {
		opts runtime.LogOptions
		want string
	}{
		{runtime.LogOptions{}, "one\ntwo\nthree\nfour\n"},
		{runtime.LogOptions{Stream: runtime.Stdout}, "one\nthree\n"},
		{runtime.LogOptions{Stream: runtime.Stderr, Tail: 1}, "four\n"},
		{runtime.LogOptions{Since: times[2]}, "three\nfour\n"},
		{runtime.LogOptions{Since: times[1], Tail: 1}, "four\n"},
		{runtime.LogOptions{LimitBytes: 6}, "one\ntw"},
		{runtime.LogOptions{Tail: runtime.TailNone}, ""},
		{runtime.LogOptions{Tail: 2, Timestamps: true}, strings.Join(lines[2:], "\n") + "\n"},
	}
	for _, c := range cases {
		if got := ReadLogs(ctx, t, rt, id, c.opts); got != c.want {
			t.Errorf("Logs(%+v) = %q, want %q", c.opts, got, c.want)
		}
	}
	_, err := rt.Logs(ctx, id, runtime.LogOptions{Stream: "stdin"})
	wantErr(t, "Logs of a bad stream", err, runtime.ErrInvalid)

	// Following from the end: only what is written from now on.
	cfg := ctr("running", "print", "before", "stdin", "print", "after", "exit", "0")
	cfg.Stdin, cfg.StdinOnce = true, true
	run := MustStart(ctx, t, rt, sb, cfg)
	waitLog(ctx, t, rt, run, "before\n")
	fctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	rc, err := rt.Logs(fctx, run, runtime.LogOptions{Follow: true, Tail: runtime.TailNone})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rt.Attach(ctx, run, runtime.AttachOptions{Stdin: strings.NewReader("x\n")}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "stdin: x\nstdin: EOF\nafter\n" {
		t.Fatalf("followed from the end: %q, %v", got, err)
	}
}

// testPreviousAttemptLogs: a restarted container's previous attempt keeps
// its own log until it is removed.
func testPreviousAttemptLogs(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("previous"))
	first := ctr("app", "print", "attempt zero", "exit", "1")
	id0 := MustStart(ctx, t, rt, sb, first)
	st0 := WaitState(ctx, t, rt, id0, runtime.ContainerExited)
	second := ctr("app", "print", "attempt one", "wait")
	second.Attempt = 1
	id1 := MustStart(ctx, t, rt, sb, second)
	waitLog(ctx, t, rt, id1, "attempt one\n")
	if got := ReadLogs(ctx, t, rt, id0, runtime.LogOptions{}); got != "attempt zero\n" {
		t.Fatalf("previous attempt's log %q", got)
	}
	st1, _ := rt.ContainerStatus(ctx, id1)
	if st0.LogPath == st1.LogPath || st0.ExitCode != 1 {
		t.Fatalf("attempts share log %s (previous exit %d)", st0.LogPath, st0.ExitCode)
	}
	if err := rt.RemoveContainer(ctx, id0); err != nil {
		t.Fatal(err)
	}
	_, err := rt.Logs(ctx, id0, runtime.LogOptions{})
	wantErr(t, "Logs of a removed attempt", err, runtime.ErrNotFound)
	if got := ReadLogs(ctx, t, rt, id1, runtime.LogOptions{}); got != "attempt one\n" {
		t.Fatalf("current attempt's log after removing the previous %q", got)
	}
}
