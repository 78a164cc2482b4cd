package main

// Election failover benchmarks: setpoint's election against etcd's
// concurrency.Election on the same embedded etcd, in the same run, at equal
// lease length (2 s) and equal renewal cadence (1 s: see electionRetry).
// Each figure is the median of several runs (more for the fast release
// comparison, whose single runs are noisy on a shared machine).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
)

func init() { register("election", benchElection) }

const (
	electionRounds = 7
	electionTTL    = 2 // seconds, both sides
	electionRenew  = 1500 * time.Millisecond
	// electionRetry is our renewal interval, equal to the concurrency session's
	// effective keep-alive interval: TTL/3 rounded up to the 500 ms tick of
	// clientv3's keep-alive send loop, that is 1 s for a 2 s TTL.
	electionRetry   = time.Second
	electionTimeout = 20 * time.Second
)

func benchElection(ctx context.Context) ([]Result, error) {
	endpoint, stop, err := electionEtcd()
	if err != nil {
		return nil, err
	}
	defer stop()
	var results []Result
	pair := func(name string, rounds int, ours, anchor func(ctx context.Context, endpoint, key string) (time.Duration, error)) error {
		o, err := electionMedian(ctx, rounds, func(i int) (time.Duration, error) {
			return ours(ctx, endpoint, fmt.Sprintf("/bench/%s/ours/%d", name, i))
		})
		if err != nil {
			return fmt.Errorf("%s ours: %w", name, err)
		}
		a, err := electionMedian(ctx, rounds, func(i int) (time.Duration, error) {
			return anchor(ctx, endpoint, fmt.Sprintf("/bench/%s/anchor/%d", name, i))
		})
		if err != nil {
			return fmt.Errorf("%s anchor: %w", name, err)
		}
		results = append(results, Result{Name: name, Ours: electionMs(o), Anchor: electionMs(a), Unit: "ms"})
		return nil
	}
	if err := pair("election-failover-release", 3*electionRounds, oursRelease, anchorRelease); err != nil {
		return results, err
	}
	if err := pair("election-failover-crash", electionRounds, oursCrash, anchorCrash); err != nil {
		return results, err
	}
	o, err := electionMedian(ctx, electionRounds, func(i int) (time.Duration, error) {
		return objectLockCrash(ctx, endpoint, fmt.Sprintf("lock-%d", i))
	})
	if err != nil {
		return results, fmt.Errorf("election-failover-object-lock: %w", err)
	}
	results = append(results, Result{Name: "election-failover-object-lock", Ours: electionMs(o), Unit: "ms"})
	return results, nil
}

func electionMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// electionMedian runs fn rounds times and returns the median.
func electionMedian(ctx context.Context, rounds int, fn func(i int) (time.Duration, error)) (time.Duration, error) {
	var ds []time.Duration
	for i := range rounds {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		d, err := fn(i)
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	if os.Getenv("ELECTION_BENCH_DEBUG") != "" {
		fmt.Fprintln(os.Stderr, "rounds:", ds)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}

// electionEtcd starts an embedded etcd with etcd's default timing
// (heartbeat 100 ms, election 1 s, so the minimum lease TTL is 2 s).
func electionEtcd() (string, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{LogLevel: "off"})
	if err != nil {
		return "", nil, err
	}
	return srv.Endpoints()[0], func() { srv.Close() }, nil
}

func electionClient(endpoint string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// electionCandidate is one of our electors with its own client.
type electionCandidate struct {
	client  *clientv3.Client
	el      *election.Elector
	started chan time.Time
	cancel  context.CancelFunc
	done    chan error
}

func startElectionCandidate(ctx context.Context, endpoint, key, id string) (*electionCandidate, error) {
	return startCandidateWith(ctx, endpoint, id, func(c *clientv3.Client) (election.Lock, error) {
		return etcdlock.New(c, key)
	}, func(cfg *election.Config) {
		cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = electionTTL*time.Second, electionRenew, electionRetry
	})
}

func startCandidateWith(ctx context.Context, endpoint, id string, newLock func(*clientv3.Client) (election.Lock, error), tune func(*election.Config)) (*electionCandidate, error) {
	c, err := electionClient(endpoint)
	if err != nil {
		return nil, err
	}
	lock, err := newLock(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	cd := &electionCandidate{client: c, started: make(chan time.Time, 4), done: make(chan error, 1)}
	cfg := election.Config{
		Lock: lock, Identity: id, ReleaseOnCancel: true,
		Callbacks: election.Callbacks{OnStartedLeading: func(ctx context.Context) {
			cd.started <- time.Now()
			<-ctx.Done()
		}},
	}
	tune(&cfg)
	cd.el, err = election.New(cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	cd.cancel = cancel
	go func() { cd.done <- cd.el.Run(rctx) }()
	return cd, nil
}

func (c *electionCandidate) stop() {
	c.cancel()
	<-c.done
	c.client.Close()
}

func electionWait[T any](ch <-chan T, what string) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(electionTimeout):
		var zero T
		return zero, fmt.Errorf("timed out waiting for %s", what)
	}
}

// electionWaitFor polls cond.
func electionWaitFor(what string, cond func() bool) error {
	deadline := time.Now().Add(electionTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// oursPair starts a leader a and a waiting follower b.
func oursPair(ctx context.Context, endpoint, key string) (a, b *electionCandidate, err error) {
	a, err = startElectionCandidate(ctx, endpoint, key, "a")
	if err != nil {
		return nil, nil, err
	}
	if _, err := electionWait(a.started, "a to lead"); err != nil {
		a.stop()
		return nil, nil, err
	}
	b, err = startElectionCandidate(ctx, endpoint, key, "b")
	if err != nil {
		a.stop()
		return nil, nil, err
	}
	if err := electionWaitFor("b to see a", func() bool { return b.el.Leader() == "a" }); err != nil {
		a.stop()
		b.stop()
		return nil, nil, err
	}
	time.Sleep(50 * time.Millisecond) // let b settle into its watch
	return a, b, nil
}

// oursRelease: a releases (its Run's context ends, ReleaseOnCancel); time
// until b's OnStartedLeading.
func oursRelease(ctx context.Context, endpoint, key string) (time.Duration, error) {
	a, b, err := oursPair(ctx, endpoint, key)
	if err != nil {
		return 0, err
	}
	defer b.stop()
	t0 := time.Now()
	a.cancel()
	t1, err := electionWait(b.started, "b to lead after release")
	a.stop()
	return t1.Sub(t0), err
}

// oursCrash: a's connection drops (its client is closed, nothing is
// released) at a random point of its renewal cycle; time until b leads.
func oursCrash(ctx context.Context, endpoint, key string) (time.Duration, error) {
	a, b, err := oursPair(ctx, endpoint, key)
	if err != nil {
		return 0, err
	}
	defer b.stop()
	time.Sleep(rand.N(electionRetry))
	t0 := time.Now()
	a.client.Close()
	t1, err := electionWait(b.started, "b to lead after a's connection dropped")
	a.cancel()
	<-a.done
	return t1.Sub(t0), err
}

// anchorPair: concurrency.Election leader e1 and a campaigning e2.
type anchorSide struct {
	client  *clientv3.Client
	session *concurrency.Session
	e       *concurrency.Election
}

func newAnchorSide(endpoint, key string) (*anchorSide, error) {
	c, err := electionClient(endpoint)
	if err != nil {
		return nil, err
	}
	s, err := concurrency.NewSession(c, concurrency.WithTTL(electionTTL))
	if err != nil {
		c.Close()
		return nil, err
	}
	return &anchorSide{client: c, session: s, e: concurrency.NewElection(s, key)}, nil
}

func (a *anchorSide) close() {
	a.session.Close()
	a.client.Close()
}

func anchorPair(ctx context.Context, endpoint, key string) (a, b *anchorSide, won chan time.Time, err error) {
	a, err = newAnchorSide(endpoint, key)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := a.e.Campaign(ctx, "a"); err != nil {
		a.close()
		return nil, nil, nil, err
	}
	b, err = newAnchorSide(endpoint, key)
	if err != nil {
		a.close()
		return nil, nil, nil, err
	}
	won = make(chan time.Time, 1)
	failed := make(chan error, 1)
	go func() {
		if err := b.e.Campaign(ctx, "b"); err != nil {
			failed <- err
			return
		}
		won <- time.Now()
	}()
	// Wait until b's candidate key exists, that is, b waits on a.
	var campaignErr error
	err = electionWaitFor("anchor b to campaign", func() bool {
		select {
		case campaignErr = <-failed:
			return true
		default:
		}
		r, err := b.client.Get(ctx, key+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err == nil && r.Count == 2
	})
	if err == nil && campaignErr != nil {
		err = fmt.Errorf("anchor b's campaign: %w", campaignErr)
	}
	if err != nil {
		a.close()
		b.close()
		return nil, nil, nil, err
	}
	time.Sleep(50 * time.Millisecond)
	return a, b, won, nil
}

func anchorRelease(ctx context.Context, endpoint, key string) (time.Duration, error) {
	a, b, won, err := anchorPair(ctx, endpoint, key)
	if err != nil {
		return 0, err
	}
	defer b.close()
	defer a.close()
	t0 := time.Now()
	if err := a.e.Resign(ctx); err != nil {
		return 0, err
	}
	t1, err := electionWait(won, "anchor b to win after resign")
	return t1.Sub(t0), err
}

func anchorCrash(ctx context.Context, endpoint, key string) (time.Duration, error) {
	a, b, won, err := anchorPair(ctx, endpoint, key)
	if err != nil {
		return 0, err
	}
	defer b.close()
	time.Sleep(rand.N(electionRetry))
	t0 := time.Now()
	a.client.Close()
	t1, err := electionWait(won, "anchor b to win after a's connection dropped")
	return t1.Sub(t0), err
}

// objectLockCrash: the store-object lock over the etcd backend with
// client-go's default durations scaled down (LeaseDuration 1.5 s,
// RenewDeadline 1 s, RetryPeriod 200 ms). The leader's connection drops at a
// random point of its renewal cycle; time until the follower leads.
func objectLockCrash(ctx context.Context, endpoint, name string) (time.Duration, error) {
	newLock := func(c *clientv3.Client) (election.Lock, error) {
		s, err := store.New[*election.Lease](etcd.New(c), election.LeaseResource, store.WithKeyPrefix("/bench"))
		if err != nil {
			return nil, err
		}
		return election.NewObjectLock(s, "bench", name)
	}
	tune := func(cfg *election.Config) {
		cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = 1500*time.Millisecond, time.Second, 200*time.Millisecond
	}
	a, err := startCandidateWith(ctx, endpoint, "a", newLock, tune)
	if err != nil {
		return 0, err
	}
	if _, err := electionWait(a.started, "a to lead"); err != nil {
		a.stop()
		return 0, err
	}
	b, err := startCandidateWith(ctx, endpoint, "b", newLock, tune)
	if err != nil {
		a.stop()
		return 0, err
	}
	defer b.stop()
	if err := electionWaitFor("b to see a", func() bool { return b.el.Leader() == "a" }); err != nil {
		a.stop()
		return 0, err
	}
	time.Sleep(time.Duration(rand.N(200)) * time.Millisecond)
	t0 := time.Now()
	a.client.Close()
	t1, err := electionWait(b.started, "b to lead after a's connection dropped")
	a.cancel()
	<-a.done
	return t1.Sub(t0), err
}
