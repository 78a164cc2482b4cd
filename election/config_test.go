package election_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

// countingLock counts calls; a Run that never starts makes none.
type countingLock struct{ calls atomic.Int64 }

func (l *countingLock) Get(context.Context) (election.Observation, error) {
	l.calls.Add(1)
	return election.Observation{}, errors.New("countingLock: no storage")
}
func (l *countingLock) Wait(context.Context, int64) error { l.calls.Add(1); return nil }
func (l *countingLock) Acquire(context.Context, election.LeaseSpec, election.Observation) (store.Fence, error) {
	l.calls.Add(1)
	return store.Fence{}, election.ErrHeld
}
func (l *countingLock) Renew(context.Context, election.LeaseSpec) error { l.calls.Add(1); return nil }
func (l *countingLock) Release(context.Context) error                   { l.calls.Add(1); return nil }

func TestBadConfig(t *testing.T) {
	lock := &countingLock{}
	start := func(context.Context) {}
	valid := func() election.Config {
		return election.Config{
			Lock: lock, Identity: "a",
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: time.Second,
			Callbacks: election.Callbacks{OnStartedLeading: start},
		}
	}
	tests := []struct {
		name   string
		mutate func(*election.Config)
		want   string // a word the message must contain
	}{
		{"nil lock", func(c *election.Config) { c.Lock = nil }, "Lock"},
		{"blank identity", func(c *election.Config) { c.Identity = "  " }, "Identity"},
		{"control char in identity", func(c *election.Config) { c.Identity = "a\nb" }, "Identity"},
		{"long identity", func(c *election.Config) { c.Identity = strings.Repeat("x", 254) }, "Identity"},
		{"lease equals renew", func(c *election.Config) { c.LeaseDuration = 2 * time.Second }, "LeaseDuration"},
		{"lease below renew", func(c *election.Config) { c.LeaseDuration = time.Second }, "LeaseDuration"},
		{"renew equals retry", func(c *election.Config) { c.RenewDeadline = time.Second }, "RenewDeadline"},
		{"renew below retry", func(c *election.Config) { c.RetryPeriod = 2500 * time.Millisecond }, "RenewDeadline"},
		{"negative retry", func(c *election.Config) { c.RetryPeriod = -time.Second }, "RetryPeriod"},
		{"renew above default lease", func(c *election.Config) { c.LeaseDuration = 0; c.RenewDeadline = time.Minute }, "LeaseDuration"},
		{"no OnStartedLeading", func(c *election.Config) { c.Callbacks.OnStartedLeading = nil }, "OnStartedLeading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, election.ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %q, want it to name %s", err, tt.want)
			}
			el, err := election.New(cfg)
			if !errors.Is(err, election.ErrInvalidConfig) || el != nil {
				t.Fatalf("New() = %v, %v; want nil and ErrInvalidConfig", el, err)
			}
		})
	}
	if n := lock.calls.Load(); n != 0 {
		t.Errorf("invalid configs touched the lock %d times, want 0", n)
	}
	// The valid base config really is valid, and zero durations take the
	// defaults; an empty identity gets the default identity.
	cfg := valid()
	cfg.Identity, cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = "", 0, 0, 0
	el, err := election.New(cfg)
	if err != nil {
		t.Fatalf("New(defaults) = %v", err)
	}
	if id := el.Identity(); id == "" || !strings.Contains(id, "_") {
		t.Errorf("default identity %q, want hostname_suffix", id)
	}
	if a, b := election.DefaultIdentity(), election.DefaultIdentity(); a == b {
		t.Errorf("DefaultIdentity() returned %q twice", a)
	}
}

func TestRunTwiceAndMetricsCollision(t *testing.T) {
	lock := &countingLock{}
	reg := prometheus.NewRegistry()
	cfg := election.Config{Lock: lock, Identity: "dup", RetryPeriod: 10 * time.Millisecond,
		LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond,
		Callbacks: election.Callbacks{OnStartedLeading: func(context.Context) {}}, Registerer: reg}
	el, err := election.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A second elector with the same identity on the same registry would
	// publish clashing metrics: refused.
	if _, err := election.New(cfg); !errors.Is(err, election.ErrInvalidConfig) {
		t.Errorf("second New with the same identity and registry = %v, want ErrInvalidConfig", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- el.Run(ctx) }()
	waitFor(t, 10*time.Second, "Run to use the lock", func() bool { return lock.calls.Load() > 0 })
	if err := el.Run(ctx); !errors.Is(err, election.ErrAlreadyRunning) {
		t.Errorf("second concurrent Run = %v, want ErrAlreadyRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}
