package clocktest

import (
	"context"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// Clock is a fake clock. The zero value is not usable; call New. It is safe for
// concurrent use.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters map[*waiter]struct{}
	changed chan struct{} // closed and replaced whenever waiters change
}

var _ reconcile.Clock = (*Clock)(nil)

// New returns a fake clock that reads start until it is moved.
func New(start time.Time) *Clock {
	return &Clock{now: start, waiters: make(map[*waiter]struct{}), changed: make(chan struct{})}
}

type waiter struct {
	c      *Clock
	at     time.Time
	seq    uint64
	ch     chan time.Time // timers and tickers
	f      func()         // AfterFunc
	period time.Duration  // tickers
}

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns Now().Sub(t).
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// NewTimer returns a timer that fires once the clock reaches Now()+d. A timer
// with d <= 0 has fired already.
func (c *Clock) NewTimer(d time.Duration) reconcile.Timer {
	w := &waiter{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d <= 0 {
		w.ch <- c.now
		return (*timer)(w)
	}
	c.arm(w, d)
	return (*timer)(w)
}

// AfterFunc returns a timer that calls f once the clock reaches Now()+d. The
// call happens in the goroutine that moves the clock, before Step or SetTime
// returns, so f must not wait for that goroutine. With d <= 0, f runs at once
// in its own goroutine, as time.AfterFunc does.
func (c *Clock) AfterFunc(d time.Duration, f func()) reconcile.Timer {
	w := &waiter{c: c, f: f}
	if d <= 0 {
		go f()
		return (*timer)(w)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm(w, d)
	return (*timer)(w)
}

// NewTicker returns a ticker that ticks every d of fake time. Like a real
// ticker, it drops ticks the receiver is not ready for. It panics if d <= 0.
func (c *Clock) NewTicker(d time.Duration) reconcile.Ticker {
	if d <= 0 {
		panic("clocktest: non-positive interval for NewTicker")
	}
	w := &waiter{c: c, ch: make(chan time.Time, 1), period: d}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm(w, d)
	return (*ticker)(w)
}

// Step moves the clock forward by d and fires every timer, ticker and
// AfterFunc whose deadline has been reached, earliest first. Time passes
// through each deadline in turn: a timer's channel receives its deadline, and
// an AfterFunc sees Now() equal to its deadline.
func (c *Clock) Step(d time.Duration) {
	c.mu.Lock()
	c.advance(c.now.Add(d))
}

// SetTime moves the clock to t, firing what falls due on the way. Moving it
// backwards fires nothing.
func (c *Clock) SetTime(t time.Time) {
	c.mu.Lock()
	c.advance(t)
}

// HasWaiters reports whether any timer, ticker or AfterFunc is armed.
func (c *Clock) HasWaiters() bool { return c.Waiters() > 0 }

// Waiters returns the number of armed timers, tickers and AfterFuncs.
func (c *Clock) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForWaiters blocks until at least n timers, tickers or AfterFuncs are
// armed, or ctx ends (returning its error).
func (c *Clock) WaitForWaiters(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		ok, ch := len(c.waiters) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advance is called with c.mu held and releases it. Time moves through each
// deadline in turn, so a callback sees Now() equal to its own deadline, and
// timers it arms that fall due by the target fire in the same step.
func (c *Clock) advance(to time.Time) {
	for {
		w := c.next(to)
		if w == nil {
			break
		}
		if w.at.After(c.now) {
			c.now = w.at
		}
		switch {
		case w.f != nil:
			c.disarm(w)
			c.mu.Unlock()
			w.f()
			c.mu.Lock()
		case w.period > 0:
			send(w.ch, c.now)
			w.at = w.at.Add(w.period)
			if !w.at.After(to) {
				// Ticks the receiver could not take are dropped, as with
				// a real ticker: skip to the first deadline after to.
				w.at = w.at.Add((to.Sub(w.at)/w.period + 1) * w.period)
			}
		default:
			c.disarm(w)
			send(w.ch, c.now)
		}
	}
	if to.After(c.now) {
		c.now = to
	}
	c.mu.Unlock()
}

// next returns the armed waiter with the earliest deadline not after to.
func (c *Clock) next(to time.Time) *waiter {
	var best *waiter
	for w := range c.waiters {
		if w.at.After(to) {
			continue
		}
		if best == nil || w.at.Before(best.at) || (w.at.Equal(best.at) && w.seq < best.seq) {
			best = w
		}
	}
	return best
}

func (c *Clock) arm(w *waiter, d time.Duration) {
	c.seq++
	w.seq = c.seq
	w.at = c.now.Add(d)
	c.waiters[w] = struct{}{}
	c.notify()
}

func (c *Clock) disarm(w *waiter) bool {
	if _, ok := c.waiters[w]; !ok {
		return false
	}
	delete(c.waiters, w)
	c.notify()
	return true
}

func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func send(ch chan time.Time, t time.Time) {
	select {
	case ch <- t:
	default:
	}
}

func drain(ch chan time.Time) {
	select {
	case <-ch:
	default:
	}
}

type timer waiter

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.ch != nil {
		drain(t.ch)
	}
	return c.disarm((*waiter)(t))
}

func (t *timer) Reset(d time.Duration) bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	active := c.disarm((*waiter)(t))
	if t.ch != nil {
		drain(t.ch)
		if d <= 0 {
			t.ch <- c.now
			return active
		}
	}
	c.arm((*waiter)(t), max(d, 1))
	return active
}

type ticker waiter

func (t *ticker) C() <-chan time.Time { return t.ch }

func (t *ticker) Stop() {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.disarm((*waiter)(t))
}

func (t *ticker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clocktest: non-positive interval for Ticker.Reset")
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.disarm((*waiter)(t))
	t.period = d
	c.arm((*waiter)(t), d)
}
