package nodelifecycle

import (
	"time"
)

// ZoneState is a zone's health, as Kubernetes computes it.
type ZoneState string

// Zone states.
const (
	StateInitial           ZoneState = "Initial"
	StateNormal            ZoneState = "Normal"
	StateFullDisruption    ZoneState = "FullDisruption"
	StatePartialDisruption ZoneState = "PartialDisruption"
)

// zoneState classifies a zone of total nodes of which notReady are not
// Ready: fully disrupted when none is Ready, partially when more than two
// and at least threshold of them are not Ready (Kubernetes'
// ComputeZoneState).
func zoneState(total, notReady int, threshold float64) ZoneState {
	switch {
	case total > 0 && notReady == total:
		return StateFullDisruption
	case notReady > 2 && float64(notReady)/float64(total) >= threshold:
		return StatePartialDisruption
	}
	return StateNormal
}

// bucket is a token bucket of burst 1 on an injected clock: Kubernetes'
// eviction rate limiter (flowcontrol.NewTokenBucketRateLimiter(qps, 1)).
type bucket struct {
	qps    float64
	tokens float64
	last   time.Time
}

func newBucket(qps float64, now time.Time) *bucket { return &bucket{qps: qps, tokens: 1, last: now} }

// setRate changes the rate; a zero rate lets nothing through.
func (b *bucket) setRate(qps float64, now time.Time) {
	b.refill(now)
	b.qps = qps
	if qps == 0 {
		b.tokens = 0
	}
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(1, b.tokens+now.Sub(b.last).Seconds()*b.qps)
		b.last = now
	}
}

// take takes a token if there is one.
func (b *bucket) take(now time.Time) bool {
	b.refill(now)
	if b.qps > 0 && b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
