package reconcile

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// RateLimiter decides how long a key waits before it is retried.
// Implementations are safe for concurrent use.
type RateLimiter[K comparable] interface {
	// When records a retry of key and returns how long it must wait.
	When(key K) time.Duration
	// Forget clears key's retry history (call it once the key succeeded).
	Forget(key K)
	// NumRequeues returns how many retries of key have been recorded since
	// it was last forgotten.
	NumRequeues(key K) int
}

// ExponentialBackoff is a per-key RateLimiter: the n-th retry of a key
// (counting from 0) waits base*2^n, never more than limit.
type ExponentialBackoff[K comparable] struct {
	base, limit time.Duration

	mu       sync.Mutex
	failures map[K]int
}

var _ RateLimiter[string] = (*ExponentialBackoff[string])(nil)

// NewExponentialBackoff returns a per-key exponential backoff from base up to
// limit. It returns an error unless 0 < base <= limit.
func NewExponentialBackoff[K comparable](base, limit time.Duration) (*ExponentialBackoff[K], error) {
	if base <= 0 {
		return nil, fmt.Errorf("%w: exponential backoff base %v must be positive", ErrInvalidConfig, base)
	}
	if limit < base {
		return nil, fmt.Errorf("%w: exponential backoff limit %v is below base %v", ErrInvalidConfig, limit, base)
	}
	return &ExponentialBackoff[K]{base: base, limit: limit, failures: make(map[K]int)}, nil
}

// When returns base*2^n for the n-th retry of key, capped at the limit.
func (b *ExponentialBackoff[K]) When(key K) time.Duration {
	b.mu.Lock()
	n := b.failures[key]
	b.failures[key] = n + 1
	b.mu.Unlock()
	d := float64(b.base) * math.Pow(2, float64(n))
	if d >= float64(b.limit) {
		return b.limit
	}
	return time.Duration(d)
}

// Forget clears key's failure count.
func (b *ExponentialBackoff[K]) Forget(key K) {
	b.mu.Lock()
	delete(b.failures, key)
	b.mu.Unlock()
}

// NumRequeues returns key's failure count.
func (b *ExponentialBackoff[K]) NumRequeues(key K) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[key]
}

// TokenBucket is an overall RateLimiter shared by all keys: it allows rate
// retries per second on average with bursts of up to burst. Each When
// reserves a token and returns how long until that token is available. It
// keeps no per-key history.
type TokenBucket[K comparable] struct {
	rate  float64
	burst float64
	clock clockwork.Clock

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

var _ RateLimiter[string] = (*TokenBucket[string])(nil)

// NewTokenBucket returns a bucket that starts full. clock may be nil for the
// real clock. It returns an error unless rate > 0 and burst >= 1.
func NewTokenBucket[K comparable](rate float64, burst int, clock clockwork.Clock) (*TokenBucket[K], error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("%w: token bucket rate %v must be a positive number", ErrInvalidConfig, rate)
	}
	if burst < 1 {
		return nil, fmt.Errorf("%w: token bucket burst %d must be at least 1", ErrInvalidConfig, burst)
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &TokenBucket[K]{rate: rate, burst: float64(burst), clock: clock, tokens: float64(burst), last: clock.Now()}, nil
}

// When reserves one token and returns the wait until it is available.
func (b *TokenBucket[K]) When(K) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-b.tokens / b.rate * float64(time.Second)))
}

// Forget does nothing: the bucket has no per-key state.
func (b *TokenBucket[K]) Forget(K) {}

// NumRequeues returns 0: the bucket has no per-key state.
func (b *TokenBucket[K]) NumRequeues(K) int { return 0 }

// MaxOf returns a RateLimiter whose delay is the longest of its limiters'
// (each of which records the retry); NumRequeues is the largest of theirs and
// Forget forgets in all of them.
func MaxOf[K comparable](limiters ...RateLimiter[K]) RateLimiter[K] {
	return maxOf[K](append([]RateLimiter[K](nil), limiters...))
}

type maxOf[K comparable] []RateLimiter[K]

func (m maxOf[K]) When(key K) time.Duration {
	var d time.Duration
	for _, l := range m {
		d = max(d, l.When(key))
	}
	return d
}

func (m maxOf[K]) Forget(key K) {
	for _, l := range m {
		l.Forget(key)
	}
}

func (m maxOf[K]) NumRequeues(key K) int {
	n := 0
	for _, l := range m {
		n = max(n, l.NumRequeues(key))
	}
	return n
}

// Capped returns a RateLimiter that never waits longer than limit, whatever l
// says, so that a retry loop keeps retrying at a bounded interval instead of
// drifting to many minutes. limit <= 0 leaves l unchanged.
func Capped[K comparable](l RateLimiter[K], limit time.Duration) RateLimiter[K] {
	if limit <= 0 {
		return l
	}
	return capped[K]{l, limit}
}

type capped[K comparable] struct {
	RateLimiter[K]
	limit time.Duration
}

func (c capped[K]) When(key K) time.Duration { return min(c.RateLimiter.When(key), c.limit) }

// DefaultRateLimiter returns the limiter queues use unless told otherwise:
// per-key exponential backoff from 5ms to 1000s, combined by MaxOf with an
// overall bucket of 10 retries per second and a burst of 100. clock may be
// nil for the real clock.
func DefaultRateLimiter[K comparable](clock clockwork.Clock) RateLimiter[K] {
	exp, _ := NewExponentialBackoff[K](5*time.Millisecond, 1000*time.Second)
	bucket, _ := NewTokenBucket[K](10, 100, clock)
	return MaxOf[K](exp, bucket)
}
