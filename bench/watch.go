package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/watch"
)

// watch-fanout-100: events/s delivered to 100 broadcaster subscribers (summed)
// fed from one etcd watch, against the events/s of ONE raw etcd watcher on the
// same write stream: both watch the prefix while the writes happen, and each
// is timed from the first write to its last event. Rounds use fresh prefixes
// and the median is reported.
//
// watch-fanout-100-mem: the fan-out's own capacity, without etcd: events/s
// delivered to 100 subscribers (summed) from an in-memory source that has
// every event ready (with a window that holds them all), against one consumer
// reading the same events straight from such a source.
const (
	watchEvents      = 3000
	watchSubscribers = 100
	watchRounds      = 3
	watchPrefix      = "/bench/watch/"
	memEvents        = 200000
)

func init() {
	register("watch", benchWatch)
}

func benchWatch(ctx context.Context) ([]Result, error) {
	var results []Result
	mo, ma, err := memFanout(ctx)
	if err != nil {
		return nil, fmt.Errorf("in-memory fan-out: %w", err)
	}
	results = append(results, Result{Name: "watch-fanout-100-mem", Ours: mo, Anchor: ma, Unit: "events/s", HigherIsBetter: true})

	srv, stop, err := startBenchEtcd(ctx)
	if err != nil {
		return results, err
	}
	defer stop()
	var ours, anchor []float64
	for round := range watchRounds {
		o, a, err := liveRound(ctx, srv, fmt.Sprintf("%sr%d/", watchPrefix, round), watchEvents)
		if err != nil {
			return results, err
		}
		anchor, ours = append(anchor, a), append(ours, o)
	}
	fmt.Fprintf(os.Stderr, "watch-fanout-100: rounds ours=%.0f anchor=%.0f events/s\n", ours, anchor)
	results = append([]Result{{Name: "watch-fanout-100", Ours: median(ours), Anchor: median(anchor), Unit: "events/s", HigherIsBetter: true}}, results...)
	return results, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// liveRound watches prefix with one raw clientv3 watcher and with a
// Broadcaster (one etcd watch, watchSubscribers subscribers) while n puts are
// written, and returns both delivery rates in events/s.
func liveRound(ctx context.Context, srv *embedetcd.Server, prefix string, n int) (ours, anchor float64, err error) {
	cli, be := srv.Client(), srv.Backend()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := cli.Get(ctx, "/bench/none")
	if err != nil {
		return 0, 0, err
	}
	startRev := resp.Header.Revision
	total := n + 1 // a warm-up put first, so both watches are live before timing

	// The anchor: one raw watcher.
	rawW := startRawWatch(ctx, cli, prefix, startRev, total)

	// Ours: one broadcaster over the store's etcd backend watch, many
	// subscribers.
	source := func(ctx context.Context, after int64) (watch.Watcher[store.KV], error) {
		return be.Watch(ctx, prefix, after)
	}
	b, err := watch.NewBroadcaster(source, startRev, watch.BroadcasterConfig{})
	if err != nil {
		return 0, 0, err
	}
	var (
		wg, warm sync.WaitGroup
		mu       sync.Mutex
		oursEnd  time.Time
		subErr   error
	)
	for range watchSubscribers {
		w, err := b.Subscribe(ctx, startRev)
		if err != nil {
			return 0, 0, err
		}
		warm.Add(1)
		wg.Go(func() {
			defer w.Stop()
			got := 0
			for range w.Events() {
				if got++; got == 1 {
					warm.Done()
				}
				if got == total {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got != total {
				if got == 0 {
					warm.Done()
				}
				if subErr == nil {
					subErr = fmt.Errorf("subscriber got %d of %d events; stream ended: %v", got, total, w.Err())
				}
				return
			}
			if now := time.Now(); now.After(oursEnd) {
				oursEnd = now
			}
		})
	}
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()

	if _, err := cli.Put(ctx, prefix+"warmup", "x"); err != nil {
		return 0, 0, err
	}
	select {
	case <-rawW.Warm:
	case err := <-rawW.Done:
		return 0, 0, fmt.Errorf("raw watcher: %v", err)
	}
	warm.Wait()

	begin := time.Now()
	if err := writeKeys(ctx, cli, prefix, n); err != nil {
		return 0, 0, err
	}
	if err := <-rawW.Done; err != nil {
		return 0, 0, fmt.Errorf("raw watcher: %w", err)
	}
	wg.Wait()
	cancel()
	if err := <-runErr; err != nil {
		return 0, 0, fmt.Errorf("broadcaster: %w", err)
	}
	if subErr != nil {
		return 0, 0, fmt.Errorf("broadcaster: %w", subErr)
	}
	ours = float64(watchSubscribers*n) / oursEnd.Sub(begin).Seconds()
	anchor = float64(n) / rawW.End.Sub(begin).Seconds()
	return ours, anchor, nil
}

// writeKeys writes n puts under prefix from several writers.
func writeKeys(ctx context.Context, cli *clientv3.Client, prefix string, n int) error {
	const writers = 16
	value := make([]byte, 256)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	g, gctx := errgroup.WithContext(ctx)
	for w := range writers {
		g.Go(func() error {
			for i := w; i < n; i += writers {
				key := fmt.Sprintf("%sns%d/obj%05d", prefix, i%10, i%2000)
				if _, err := cli.Put(gctx, key, string(value)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// memSource serves memEvents ready-made events after any revision.
func memSource(events []watch.Event[store.KV]) watch.Source[store.KV] {
	return func(ctx context.Context, afterRev int64) (watch.Watcher[store.KV], error) {
		s := watch.NewStream[store.KV](1024)
		go func() {
			for _, e := range events {
				if e.Revision > afterRev && !s.Send(ctx, e) {
					break
				}
			}
			select {
			case <-s.Done():
			case <-ctx.Done():
			}
			s.Close(nil)
		}()
		return s, nil
	}
}

// memFanout measures the broadcaster alone: ours is the summed delivery rate
// to watchSubscribers subscribers, anchor the rate of one consumer reading
// the source directly.
func memFanout(ctx context.Context) (ours, anchor float64, err error) {
	events := make([]watch.Event[store.KV], memEvents)
	for i := range events {
		rev := int64(i + 1)
		events[i] = watch.Event[store.KV]{Type: watch.Modified, Revision: rev, Object: store.KV{Key: fmt.Sprintf("/k/%d", i%1000), ModRevision: rev}}
	}
	src := memSource(events)

	var as, os_ []float64
	for range watchRounds {
		sctx, cancel := context.WithCancel(ctx)
		begin := time.Now()
		w, err := src(sctx, 0)
		if err != nil {
			cancel()
			return 0, 0, err
		}
		got := 0
		for range w.Events() {
			if got++; got == memEvents {
				break
			}
		}
		as = append(as, float64(got)/time.Since(begin).Seconds())
		w.Stop()
		cancel()

		o, err := memFanoutRound(ctx, src)
		if err != nil {
			return 0, 0, err
		}
		os_ = append(os_, o)
	}
	return median(os_), median(as), nil
}

func memFanoutRound(ctx context.Context, src watch.Source[store.KV]) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The source has every event ready at once, far faster than any real
	// upstream, so the window holds them all: this measures delivery, not
	// the ErrTooSlow policy.
	b, err := watch.NewBroadcaster(src, 0, watch.BroadcasterConfig{Window: memEvents, SubscriberBuffer: memEvents})
	if err != nil {
		return 0, err
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		subErr error
	)
	for range watchSubscribers {
		w, err := b.Subscribe(ctx, 0)
		if err != nil {
			return 0, err
		}
		wg.Go(func() {
			defer w.Stop()
			got := 0
			for range w.Events() {
				if got++; got == memEvents {
					return
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if subErr == nil {
				subErr = fmt.Errorf("subscriber got %d of %d events; stream ended: %v", got, memEvents, w.Err())
			}
		})
	}
	begin := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- b.Run(ctx) }()
	wg.Wait()
	elapsed := time.Since(begin)
	cancel()
	if err := <-runErr; err != nil {
		return 0, err
	}
	if subErr != nil {
		return 0, subErr
	}
	return float64(watchSubscribers*memEvents) / elapsed.Seconds(), nil
}

// startBenchEtcd starts the store's embedded etcd (quiet, no fsync, random
// loopback ports, a temporary directory) and returns it with a function that
// stops it.
func startBenchEtcd(ctx context.Context) (*embedetcd.Server, func(), error) {
	srv, err := embedetcd.Start(ctx, embedetcd.Config{LogLevel: "off", UnsafeNoFsync: true, StartTimeout: 60 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("start embedded etcd: %w", err)
	}
	return srv, func() { srv.Close() }, nil
}
