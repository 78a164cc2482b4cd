package sim

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Latency is a log-normal distribution of durations, given by its median
// and its 99th percentile (container start times are skewed like this:
// most are near the median, a few take several times as long). The zero
// value is no latency.
type Latency struct {
	// Median is the 50th percentile.
	Median time.Duration
	// P99 is the 99th percentile; at most Median means every draw is
	// Median.
	P99 time.Duration
}

// z99 is the standard normal's 99th percentile.
const z99 = 2.326

// Validate reports a negative duration.
func (l Latency) Validate() error {
	if l.Median < 0 || l.P99 < 0 {
		return errNegative("StartLatency", l.Median, l.P99)
	}
	return nil
}

// Draw returns a duration from the distribution, using r.
func (l Latency) Draw(r *rand.Rand) time.Duration {
	if l.Median <= 0 {
		return 0
	}
	if l.P99 <= l.Median {
		return l.Median
	}
	sigma := math.Log(float64(l.P99)/float64(l.Median)) / z99
	return time.Duration(float64(l.Median) * math.Exp(sigma*r.NormFloat64()))
}

// Usage is the simulated resource usage of each running container: every
// container gets its own steady level between half and one and a half
// times these (fixed by its ID), so that nodes and pods differ as in a
// real cluster.
type Usage struct {
	// MilliCPU is the mean CPU use in thousandths of a core.
	MilliCPU int64
	// MemoryBytes is the mean working set.
	MemoryBytes int64
}

// simRuntime wraps a node's runtime: container starts take a drawn
// latency, and Stats report the container's simulated usage instead of
// the fake runtime's (one busy core per container).
type simRuntime struct {
	runtime.Runtime
	clock   clockwork.Clock
	latency Latency
	usage   Usage
	seed    uint64
}

var _ runtime.Runtime = (*simRuntime)(nil)

// StartContainer waits for a drawn start latency, then starts the
// container.
func (r *simRuntime) StartContainer(ctx context.Context, id string) error {
	if d := r.latency.Draw(rand.New(rand.NewPCG(r.seed, hash(id)))); d > 0 {
		t := r.clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.Chan():
		}
	}
	return r.Runtime.StartContainer(ctx, id)
}

// Stats reports the container's simulated usage: CPU time at its level
// since it started, and its working set.
func (r *simRuntime) Stats(ctx context.Context, id string) (runtime.ContainerStats, error) {
	st, err := r.Runtime.Stats(ctx, id)
	if err != nil {
		return st, err
	}
	cs, err := r.Runtime.ContainerStatus(ctx, id)
	if err != nil {
		return runtime.ContainerStats{}, err
	}
	level := 0.5 + float64(hash(id)%1000)/1000 // 0.5-1.5, fixed per container
	ran := max(st.Timestamp.Sub(cs.StartedAt), 0)
	st.CPUUsageNanos = uint64(float64(ran) * float64(r.usage.MilliCPU) / 1000 * level)
	mem := uint64(float64(r.usage.MemoryBytes) * level)
	st.MemoryUsageBytes, st.MemoryWorkingSetBytes = mem, mem
	return st, nil
}

// hash is a stable hash of s.
func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
