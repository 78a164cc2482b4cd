package watch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// item is the object type the broadcaster tests watch.
type item struct {
	Name string
	Rev  int64
}

// errBroken is what a deliberately broken source stream ends with.
var errBroken = errors.New("test: source stream broken")

// fakeLog is an in-memory revisioned event log with a Source over it, built on
// Stream. Revisions grow with gaps, as etcd's do across keys.
type fakeLog struct {
	mu        sync.Mutex
	events    []Event[item]
	rev       int64
	compacted int64
	changed   chan struct{} // closed and replaced on every append
	kills     map[int]chan error
	nextID    int
	opens     []int64 // afterRev of every open
	failOpens int     // fail this many next opens with errBroken
}

func newFakeLog() *fakeLog {
	return &fakeLog{changed: make(chan struct{}), kills: map[int]chan error{}}
}

// add appends n events with revisions spaced by 1..3 and returns them.
func (l *fakeLog) add(n int) []Event[item] {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Event[item], 0, n)
	for range n {
		l.rev += 1 + l.rev%3
		typ := Added
		switch l.rev % 5 {
		case 1:
			typ = Modified
		case 2:
			typ = Deleted
		}
		ev := Event[item]{Type: typ, Object: item{Name: fmt.Sprintf("o%d", l.rev%17), Rev: l.rev}, Revision: l.rev}
		l.events = append(l.events, ev)
		out = append(out, ev)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return out
}

// addBookmark appends a bookmark at the next revision.
func (l *fakeLog) addBookmark() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rev++
	l.events = append(l.events, Event[item]{Type: Bookmark, Revision: l.rev})
	close(l.changed)
	l.changed = make(chan struct{})
	return l.rev
}

// all returns a copy of the log's events.
func (l *fakeLog) all() []Event[item] {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event[item](nil), l.events...)
}

// compact forgets history at and before rev.
func (l *fakeLog) compact(rev int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.compacted = rev
}

// breakStreams ends every open stream with err.
func (l *fakeLog) breakStreams(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, k := range l.kills {
		k <- err
		delete(l.kills, id)
	}
}

// openCount returns how many times the source was opened.
func (l *fakeLog) openCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.opens)
}

// source is the fake's Source.
func (l *fakeLog) source(ctx context.Context, after int64) (Watcher[item], error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opens = append(l.opens, after)
	if l.failOpens > 0 {
		l.failOpens--
		return nil, errBroken
	}
	if after < l.compacted {
		return nil, &GoneError{Requested: after, Oldest: l.compacted}
	}
	s := NewStream[item](16)
	kill := make(chan error, 1)
	id := l.nextID
	l.nextID++
	l.kills[id] = kill
	go l.feed(ctx, s, after, kill, id)
	return s, nil
}

func (l *fakeLog) feed(ctx context.Context, s *Stream[item], after int64, kill chan error, id int) {
	defer func() {
		l.mu.Lock()
		delete(l.kills, id)
		l.mu.Unlock()
	}()
	next := 0
	for {
		l.mu.Lock()
		for next < len(l.events) && l.events[next].Revision <= after {
			next++
		}
		var ev Event[item]
		have := next < len(l.events)
		if have {
			ev = l.events[next]
		}
		changed := l.changed
		l.mu.Unlock()
		if !have {
			select {
			case <-changed:
				continue
			case err := <-kill:
				s.Close(err)
				return
			case <-s.Done():
				s.Close(nil)
				return
			case <-ctx.Done():
				s.Close(ctx.Err())
				return
			}
		}
		select {
		case s.ch <- ev:
			next++
		case err := <-kill:
			s.Close(err)
			return
		case <-s.Done():
			s.Close(nil)
			return
		case <-ctx.Done():
			s.Close(ctx.Err())
			return
		}
	}
}

// startBroadcaster runs a broadcaster over l until the test ends and
// returns it with a channel that receives Run's result.
func startBroadcaster(t *testing.T, l *fakeLog, startRev int64, cfg BroadcasterConfig) (*Broadcaster[item], context.CancelFunc, <-chan error) {
	t.Helper()
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Millisecond
		cfg.MaxBackoff = 10 * time.Millisecond
	}
	b, err := NewBroadcaster(l.source, startRev, cfg)
	if err != nil {
		t.Fatalf("NewBroadcaster: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return b, cancel, done
}

// collect reads w until it has n events or the stream ends, failing the test
// after a generous deadline. Call it from the test goroutine only.
func collect(t *testing.T, w Watcher[item], n int) []Event[item] {
	t.Helper()
	got, err := collectErr(w, n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// collectErr is collect for other goroutines: it returns the timeout as an
// error.
func collectErr(w Watcher[item], n int) ([]Event[item], error) {
	var got []Event[item]
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return got, nil
			}
			got = append(got, ev)
		case <-deadline:
			return got, fmt.Errorf("timed out after %d of %d events", len(got), n)
		}
	}
	return got, nil
}

// drain reads w until it closes and returns the events and Err.
func drain(t *testing.T, w Watcher[item]) ([]Event[item], error) {
	t.Helper()
	var got []Event[item]
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return got, w.Err()
			}
			got = append(got, ev)
		case <-deadline:
			t.Fatalf("stream did not end; got %d events", len(got))
		}
	}
}

// after returns the events of all with a revision greater than rev, leaving
// bookmarks out unless bookmarks is set.
func after(all []Event[item], rev int64, bookmarks bool) []Event[item] {
	var out []Event[item]
	for _, e := range all {
		if e.Revision > rev && (bookmarks || e.Type != Bookmark) {
			out = append(out, e)
		}
	}
	return out
}

// sameEvents reports the first difference between got and want.
func sameEvents(got, want []Event[item]) error {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Revision != w.Revision || g.Object != w.Object {
			return fmt.Errorf("event %d: got %s@%d %v, want %s@%d %v", i, g.Type, g.Revision, g.Object, w.Type, w.Revision, w.Object)
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("got %d events, want %d", len(got), len(want))
	}
	return nil
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
