package informer

import (
	"math/rand/v2"
	"time"
)

// Backoff configures the delay between failed lists or watches: Initial,
// doubling per consecutive failure up to Max, each delay multiplied by a
// random factor in [1-Jitter, 1+Jitter] (still capped at Max). After a watch
// stayed healthy for ResetAfter, the next failure starts again at Initial.
type Backoff struct {
	// Initial is the first delay. Default 800ms.
	Initial time.Duration
	// Max caps the delay. Default 30s.
	Max time.Duration
	// ResetAfter is how long a watch must run without failing for the
	// backoff to reset. Default 2m.
	ResetAfter time.Duration
	// Jitter is the relative spread of each delay, in [0, 1). Default 0.2.
	// Set a negative value for no jitter.
	Jitter float64
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial == 0 {
		b.Initial = 800 * time.Millisecond
	}
	if b.Max == 0 {
		b.Max = 30 * time.Second
	}
	if b.ResetAfter == 0 {
		b.ResetAfter = 2 * time.Minute
	}
	if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	if b.Jitter < 0 {
		b.Jitter = 0
	}
	return b
}

// backoff tracks consecutive failures. Not safe for concurrent use.
type backoff struct {
	cfg      Backoff
	failures int
	rand     func() float64 // in [0, 1)
}

// next returns the delay before the next attempt and counts a failure.
func (b *backoff) next() time.Duration {
	d := b.cfg.Initial
	for i := 0; i < b.failures && d < b.cfg.Max; i++ {
		d *= 2
	}
	d = min(d, b.cfg.Max)
	if b.cfg.Jitter > 0 {
		r := b.rand
		if r == nil {
			r = rand.Float64
		}
		d = time.Duration(float64(d) * (1 - b.cfg.Jitter + 2*b.cfg.Jitter*r()))
		d = min(d, b.cfg.Max)
	}
	b.failures++
	return d
}

// reset forgets past failures.
func (b *backoff) reset() { b.failures = 0 }
