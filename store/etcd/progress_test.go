package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/watch"
)

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
	srv, err := embedetcd.Start(ctx, embedetcd.Config{LogLevel: "off", UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := etcd.New(srv.Client())
	defer b.Close()
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
	defer func() { stopNoise(); wg.Wait() }()
	var gone atomic.Int64
	defer func() { t.Logf("%d watches ended with ErrGone", gone.Load()) }()
	for round := range 10 {
		start, err := b.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const watches = 30
		want := make([][]int64, watches)
		for j := range watches {
			for i := range 3 {
				rev, err := b.Create(ctx, fmt.Sprintf("/catchup-%d-%d/%d", round, j, i), []byte("v"))
				if err != nil {
					t.Fatal(err)
				}
				want[j] = append(want[j], rev)
			}
		}
		errs := make(chan error, watches)
		for j := range watches {
			go func() {
				errs <- func() error {
					w, err := b.Watch(ctx, fmt.Sprintf("/catchup-%d-%d/", round, j), start)
					if err != nil {
						return err
					}
					defer w.Stop()
					var got []int64
					var bookmark int64
					deadline := time.After(20 * time.Second)
					for len(got) < len(want[j]) {
						select {
						case ev, ok := <-w.Events():
							if !ok {
								if errors.Is(w.Err(), watch.ErrGone) {
									gone.Add(1)
									return nil // the consumer relists: nothing is lost
								}
								return fmt.Errorf("watch %d ended: %v", j, w.Err())
							}
							if ev.Type == watch.Bookmark {
								bookmark = ev.Revision
								continue
							}
							if ev.Revision <= bookmark {
								return fmt.Errorf("watch %d: event at %d after a bookmark at %d", j, ev.Revision, bookmark)
							}
							got = append(got, ev.Revision)
						case <-deadline:
							return fmt.Errorf("watch %d: events %v, want %v (an event was skipped)", j, got, want[j])
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want[j]) {
						return fmt.Errorf("watch %d: events %v, want %v", j, got, want[j])
					}
					return nil
				}()
			}()
		}
		for range watches {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// TestWatchCurrentHasNothingToCatchUp: watches opened with WatchCurrent
// while progress notifications are requested all the time deliver exactly
// the changes after the revision they report, in order, and never end
// with ErrGone: they start caught up, so etcd's progress notifications
// cannot run ahead of their events.
func TestWatchCurrentHasNothingToCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{LogLevel: "off", UnsafeNoFsync: true, WatchProgressNotifyInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := etcd.New(srv.Client())
	defer b.Close()
	noise, stopNoise := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for noise.Err() == nil {
			_ = b.RequestProgress(noise)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; noise.Err() == nil; i++ {
			_, _ = b.Create(noise, fmt.Sprintf("/noise/%d", i), []byte("x"))
		}
	}()
	defer func() { stopNoise(); wg.Wait() }()
	for round := range 10 {
		const watches = 30
		errs := make(chan error, watches)
		for j := range watches {
			go func() {
				errs <- func() error {
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
							return fmt.Errorf("watch %d: write at %d, not after the watch's start %d", j, rev, start)
						}
						want = append(want, rev)
					}
					var got []int64
					bookmark := start
					deadline := time.After(20 * time.Second)
					for len(got) < len(want) {
						select {
						case ev, ok := <-w.Events():
							if !ok {
								return fmt.Errorf("watch %d ended: %v", j, w.Err())
							}
							if ev.Type == watch.Bookmark {
								bookmark = ev.Revision
								continue
							}
							if ev.Revision <= bookmark {
								return fmt.Errorf("watch %d: event at %d after a bookmark at %d", j, ev.Revision, bookmark)
							}
							got = append(got, ev.Revision)
						case <-deadline:
							return fmt.Errorf("watch %d: events %v, want %v", j, got, want)
						}
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						return fmt.Errorf("watch %d: events %v, want %v", j, got, want)
					}
					return nil
				}()
			}()
		}
		for range watches {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if t.Failed() {
			return
		}
	}
}
