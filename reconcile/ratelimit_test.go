package reconcile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/reconcile"
)

func TestExponentialBackoffSchedule(t *testing.T) {
	b, err := reconcile.NewExponentialBackoff[string](5*time.Millisecond, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i, w := range want {
		if d := b.When("a"); d != w*time.Millisecond {
			t.Fatalf("retry %d of a: %v, want %v", i, d, w*time.Millisecond)
		}
	}
	if d := b.When("b"); d != 5*time.Millisecond {
		t.Fatalf("first retry of b: %v; keys must back off independently", d)
	}
	if n := b.NumRequeues("a"); n != len(want) {
		t.Fatalf("NumRequeues(a) = %d, want %d", n, len(want))
	}
	// Many more failures must neither overflow nor exceed the cap.
	for range 200 {
		if d := b.When("a"); d != time.Second {
			t.Fatalf("after many retries: %v, want the 1s cap", d)
		}
	}
	b.Forget("a")
	if n := b.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d", n)
	}
	if d := b.When("a"); d != 5*time.Millisecond {
		t.Fatalf("first retry after Forget: %v", d)
	}
}

func TestRateLimiterConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
	}{
		{"zero base", func() error { _, err := reconcile.NewExponentialBackoff[int](0, time.Second); return err }()},
		{"limit below base", func() error {
			_, err := reconcile.NewExponentialBackoff[int](time.Second, time.Millisecond)
			return err
		}()},
		{"zero rate", func() error { _, err := reconcile.NewTokenBucket[int](0, 1, nil); return err }()},
		{"zero burst", func() error { _, err := reconcile.NewTokenBucket[int](1, 0, nil); return err }()},
	}
	for _, c := range cases {
		if !errors.Is(c.err, reconcile.ErrInvalidConfig) {
			t.Errorf("%s: error %v, want ErrInvalidConfig", c.name, c.err)
		}
	}
}

func TestTokenBucket(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	b, err := reconcile.NewTokenBucket[string](10, 3, clk) // 10/s, burst 3
	if err != nil {
		t.Fatal(err)
	}
	// The burst is free; then each reservation waits 100ms longer.
	want := []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	for i, w := range want {
		if d := b.When("k"); d != w {
			t.Fatalf("reservation %d: %v, want %v", i, d, w)
		}
	}
	// 300ms later the reservations made so far are paid for.
	clk.Advance(300 * time.Millisecond)
	if d := b.When("x"); d != 100*time.Millisecond {
		t.Fatalf("after 300ms: %v, want 100ms", d)
	}
	// A long pause refills only up to the burst.
	clk.Advance(time.Hour)
	for i := range 3 {
		if d := b.When("y"); d != 0 {
			t.Fatalf("burst reservation %d after refill: %v", i, d)
		}
	}
	if d := b.When("y"); d != 100*time.Millisecond {
		t.Fatalf("after the burst: %v, want 100ms", d)
	}
	if n := b.NumRequeues("y"); n != 0 {
		t.Fatalf("NumRequeues = %d; the bucket keeps no per-key state", n)
	}
}

func TestMaxOfAndCapped(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	exp, _ := reconcile.NewExponentialBackoff[string](time.Second, time.Hour)
	bucket, _ := reconcile.NewTokenBucket[string](1, 1, clk)
	l := reconcile.MaxOf[string](exp, bucket)
	// exp says 1s, the bucket 0s (first token): 1s.
	if d := l.When("a"); d != time.Second {
		t.Fatalf("first: %v, want 1s", d)
	}
	// exp says 1s for b, the bucket 1s: 1s; then exp 2s for a vs bucket 2s.
	if d := l.When("b"); d != time.Second {
		t.Fatalf("b: %v, want 1s", d)
	}
	if d := l.When("a"); d != 2*time.Second {
		t.Fatalf("a again: %v, want 2s", d)
	}
	if n := l.NumRequeues("a"); n != 2 {
		t.Fatalf("NumRequeues(a) = %d, want 2", n)
	}
	l.Forget("a")
	if n := exp.NumRequeues("a"); n != 0 {
		t.Fatalf("MaxOf.Forget did not reach the backoff: %d", n)
	}

	c := reconcile.Capped[string](exp, 5*time.Second)
	var got []time.Duration
	for range 5 {
		got = append(got, c.When("c"))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("capped schedule %v, want %v", got, want)
		}
	}
	if n := c.NumRequeues("c"); n != 5 {
		t.Fatalf("capped NumRequeues = %d, want 5", n)
	}
	if reconcile.Capped[string](exp, 0) != reconcile.RateLimiter[string](exp) {
		t.Fatal("Capped with limit 0 must return the limiter unchanged")
	}
}

func TestDefaultRateLimiter(t *testing.T) {
	clk := clockwork.NewFakeClockAt(epoch)
	l := reconcile.DefaultRateLimiter[string](clk)
	if d := l.When("a"); d != 5*time.Millisecond {
		t.Fatalf("first retry: %v, want 5ms", d)
	}
	// 100 more keys fit the burst at 5ms each; the 101st reservation overall
	// waits for the bucket (10/s): 100ms.
	for i := range 99 {
		if d := l.When(string(rune('b' + i))); d != 5*time.Millisecond {
			t.Fatalf("retry %d: %v", i, d)
		}
	}
	if d := l.When("z2"); d != 100*time.Millisecond {
		t.Fatalf("after the burst: %v, want 100ms", d)
	}
}
