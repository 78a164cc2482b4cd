package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/watch"
)

// progressStress starts an embedded etcd (with cfg's progress interval)
// and a backend on it that asks for progress notifications every 200 µs
// until the test ends; with writeNoise, another goroutine keeps writing
// keys under /noise/ meanwhile.
func progressStress(t *testing.T, ctx context.Context, interval time.Duration, writeNoise bool) *etcd.Backend {
	t.Helper()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{LogLevel: "off", UnsafeNoFsync: true, WatchProgressNotifyInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	b := etcd.New(srv.Client())
	noise, stopNoise := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for noise.Err() == nil {
			_ = b.RequestProgress(noise)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	if writeNoise {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; noise.Err() == nil; i++ {
				_, _ = b.Create(noise, fmt.Sprintf("/noise/%d", i), []byte("x"))
			}
		}()
	}
	t.Cleanup(func() {
		stopNoise()
		wg.Wait()
		b.Close()
		srv.Close()
	})
	return b
}

// expectInOrder reads w until it has delivered the events at the
// revisions want, and checks that they come in order, none skipped and
// none after a bookmark for its revision or a later one (start is the
// revision the watch is known to have reached). It returns ErrGone's
// error as it is, for the caller to judge.
func expectInOrder(w watch.Watcher[store.KV], start int64, want []int64) error {
	var got []int64
	bookmark := start
	deadline := time.After(20 * time.Second)
	for len(got) < len(want) {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return fmt.Errorf("watch ended after %v: %w", got, w.Err())
			}
			if ev.Type == watch.Bookmark {
				bookmark = ev.Revision
				continue
			}
			if ev.Revision <= bookmark {
				return fmt.Errorf("event at %d after a bookmark at %d", ev.Revision, bookmark)
			}
			got = append(got, ev.Revision)
		case <-deadline:
			return fmt.Errorf("events %v, want %v (one was skipped)", got, want)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("events %v, want %v", got, want)
	}
	return nil
}

// watchRounds runs 10 rounds of 30 concurrent checks and fails t with
// their errors.
func watchRounds(t *testing.T, check func(round, j int) error) {
	t.Helper()
	for round := range 10 {
		const watches = 30
		errs := make(chan error, watches)
		for j := range watches {
			go func() { errs <- check(round, j) }()
		}
		for j := range watches {
			if err := <-errs; err != nil {
				t.Errorf("round %d, watch %d: %v", round, j, err)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestCatchUpKeepsEveryEvent: watches that start at an older revision,
// opened together while progress notifications are requested all the
// time, either deliver every event after their start in order, with no
// bookmark ahead of an event, or end with ErrGone (the consumer relists).
// None skips an event silently. etcd can send a progress notification for
// the current revision to a watch still catching up, ahead of the older
// events; a watch that trusted it skipped those events as repeats (the
// apiserver's node cache then missed the nodes registered just before it
// opened its watch, and the cluster never gave them pod CIDRs).
func TestCatchUpKeepsEveryEvent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := progressStress(t, ctx, 0, false)
	// A long-lived watch, so that the stream exists and is synced.
	base, err := b.Watch(ctx, "/other/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Stop()
	go func() {
		for range base.Events() {
		}
	}()
	var gone atomic.Int64
	defer func() { t.Logf("%d watches ended with ErrGone", gone.Load()) }()
	starts := make([]int64, 10)
	var mu sync.Mutex
	watchRounds(t, func(round, j int) error {
		mu.Lock()
		if starts[round] == 0 {
			// Every watch of a round starts at the revision before its
			// writes, which are all made before the watches open.
			rev, err := b.Revision(ctx)
			if err != nil {
				mu.Unlock()
				return err
			}
			starts[round] = rev
		}
		start := starts[round]
		mu.Unlock()
		prefix := fmt.Sprintf("/catchup-%d-%d/", round, j)
		var want []int64
		for i := range 3 {
			rev, err := b.Create(ctx, fmt.Sprintf("%s%d", prefix, i), []byte("v"))
			if err != nil {
				return err
			}
			want = append(want, rev)
		}
		time.Sleep(5 * time.Millisecond) // let the other watches' writes land
		w, err := b.Watch(ctx, prefix, start)
		if err != nil {
			return err
		}
		defer w.Stop()
		if err := expectInOrder(w, start, want); errors.Is(err, watch.ErrGone) {
			gone.Add(1)
			return nil // the consumer relists: nothing is lost
		} else {
			return err
		}
	})
}

// TestWatchCurrentHasNothingToCatchUp: watches opened with WatchCurrent
// while progress notifications are requested all the time (and sent
// every 50 ms) deliver exactly the changes after the revision they
// report, in order, and never end with ErrGone: they start caught up, so
// etcd's progress notifications cannot run ahead of their events.
func TestWatchCurrentHasNothingToCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := progressStress(t, ctx, 50*time.Millisecond, true)
	watchRounds(t, func(round, j int) error {
		prefix := fmt.Sprintf("/current-%d-%d/", round, j)
		// A key written before the watch is not delivered.
		if _, err := b.Create(ctx, prefix+"before", []byte("v")); err != nil {
			return err
		}
		w, start, err := b.WatchCurrent(ctx, prefix)
		if err != nil {
			return err
		}
		defer w.Stop()
		var want []int64
		for i := range 3 {
			rev, err := b.Create(ctx, fmt.Sprintf("%s%d", prefix, i), []byte("v"))
			if err != nil {
				return err
			}
			if rev <= start {
				return fmt.Errorf("write at %d, not after the watch's start %d", rev, start)
			}
			want = append(want, rev)
		}
		return expectInOrder(w, start, want)
	})
}
