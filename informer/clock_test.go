package informer

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndResets(t *testing.T) {
	b := backoff{cfg: Backoff{Jitter: -1}.withDefaults()}
	var got []time.Duration
	for i := 0; i < 8; i++ {
		got = append(got, b.next())
	}
	want := []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond,
		12800 * time.Millisecond, 25600 * time.Millisecond, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays = %v, want %v", got, want)
		}
	}
	b.reset()
	if d := b.next(); d != 800*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
	// Jitter stays within ±20% and under the cap.
	for _, r := range []float64{0, 0.5, 0.999} {
		j := backoff{cfg: Backoff{}.withDefaults(), rand: func() float64 { return r }}
		d := j.next()
		if d < 640*time.Millisecond || d > 960*time.Millisecond {
			t.Fatalf("jittered first delay %v with r=%v outside [640ms, 960ms]", d, r)
		}
		j.failures = 20
		if d := j.next(); d > 30*time.Second || d < 24*time.Second {
			t.Fatalf("jittered capped delay %v with r=%v", d, r)
		}
	}
}
