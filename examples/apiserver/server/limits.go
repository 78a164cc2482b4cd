package server

import (
	"encoding/json"
	"sync"
	"time"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// limiter is a token bucket (rate per second, burst) plus a cap on
// requests in flight.
type limiter struct {
	mu       sync.Mutex
	rate     float64
	burst    float64
	tokens   float64
	last     time.Time
	inflight chan struct{}
	now      func() time.Time
}

func newLimiter(rate float64, burst, maxInflight int) *limiter {
	b := float64(burst)
	if b == 0 {
		b = max(rate, 1)
	}
	return &limiter{rate: rate, burst: b, tokens: b, inflight: make(chan struct{}, maxInflight), now: time.Now}
}

// acquire takes a token and an in-flight slot; ok is false when either is
// exhausted. release returns the slot.
func (l *limiter) acquire() (release func(), ok bool) {
	if l.rate > 0 {
		l.mu.Lock()
		now := l.now()
		if !l.last.IsZero() {
			l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		}
		l.last = now
		if l.tokens < 1 {
			l.mu.Unlock()
			return nil, false
		}
		l.tokens--
		l.mu.Unlock()
	}
	select {
	case l.inflight <- struct{}{}:
		return func() { <-l.inflight }, true
	default:
		return nil, false
	}
}
