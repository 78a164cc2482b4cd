package election

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// realClock is the clock of a Config without one. renew and clockTimeout
// recognises it to give the lock a real context deadline.
var realClock = clockwork.NewRealClock()

// Default durations, the same as client-go's leader election defaults.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// maxIdentityLen bounds an identity so it fits in a Lease's holderIdentity.
const maxIdentityLen = 253

// Callbacks are the elector's hooks. Only OnStartedLeading is required.
type Callbacks struct {
	// OnStartedLeading runs in its own goroutine when this candidate
	// becomes leader. ctx ends the moment leadership is lost or given up,
	// and carries the term's fence (store.WithFence), so every store write
	// made with it (or a context derived from it) is fenced. Run does not
	// campaign again, or return, until it has returned.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading is called after leadership ended and
	// OnStartedLeading returned; only if this candidate led.
	OnStoppedLeading func()
	// OnNewLeader is called when the observed holder changes (including
	// to this candidate itself, before OnStartedLeading). It runs on the
	// elector's goroutine and must return quickly.
	OnNewLeader func(identity string)
}

// Config configures an Elector. The zero value of each optional field
// takes the documented default; Validate checks the rest.
type Config struct {
	// Lock is the storage behind the election (required). It must serve
	// only this Elector.
	Lock Lock
	// Identity names this candidate in the lock record; it must be unique
	// among the candidates (with the object lock a candidate treats a
	// record held under its own identity as its own earlier term and
	// replaces it at once).
	// Default (empty): DefaultIdentity(), the hostname plus a random
	// suffix. An identity that is blank (only white space), longer than 253
	// bytes or with control characters is an error.
	Identity string
	// LeaseDuration is how long candidates wait, after they last saw the
	// record change, before they take over. For the etcd lock it is the
	// etcd lease TTL, rounded up to whole seconds. Default 15s.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps acting without a
	// successful renewal, counted from the start of its last successful
	// one; it must be less than LeaseDuration. Default 10s.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between renewals and between a
	// candidate's attempts (the etcd lock's candidates also wake at once
	// when the key is deleted). It must be less than RenewDeadline.
	// Default 2s.
	RetryPeriod time.Duration
	// ReleaseOnCancel makes Run release the lock when its context ends,
	// after OnStartedLeading has returned, so another candidate takes over
	// at once instead of after expiry.
	ReleaseOnCancel bool
	// Callbacks are the elector's hooks.
	Callbacks Callbacks
	// Clock is the source of time for every duration the elector measures
	// (renew deadlines, expiry by observation, retry waits); tests pass
	// clockwork.NewFakeClock() and never sleep. nil (the default) is the
	// real clock. (Reads, acquisitions and releases of the lock are also
	// bounded by real-time timeouts of RenewDeadline, so that a lock that
	// hangs cannot stall a campaign on a fake clock either.)
	Clock clockwork.Clock
	// Logger receives the elector's logs. Default: discard.
	Logger *slog.Logger
	// Registerer, when set, receives the elector's metrics, labelled with
	// the identity. Default: no metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first problem with c, as an error wrapping
// ErrInvalidConfig that names the field. Zero optional fields are valid.
func (c *Config) Validate() error {
	if c.Lock == nil {
		return fmt.Errorf("%w: Lock is nil", ErrInvalidConfig)
	}
	if c.Identity != "" {
		if strings.TrimSpace(c.Identity) == "" {
			return fmt.Errorf("%w: Identity %q is blank", ErrInvalidConfig, c.Identity)
		}
		if len(c.Identity) > maxIdentityLen {
			return fmt.Errorf("%w: Identity is %d bytes long, more than %d", ErrInvalidConfig, len(c.Identity), maxIdentityLen)
		}
		if strings.IndexFunc(c.Identity, unicode.IsControl) >= 0 {
			return fmt.Errorf("%w: Identity %q has a control character", ErrInvalidConfig, c.Identity)
		}
	}
	d := c.withDefaults()
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"LeaseDuration", c.LeaseDuration}, {"RenewDeadline", c.RenewDeadline}, {"RetryPeriod", c.RetryPeriod}} {
		if f.v < 0 {
			return fmt.Errorf("%w: %s %v is negative", ErrInvalidConfig, f.name, f.v)
		}
	}
	if d.LeaseDuration <= d.RenewDeadline {
		return fmt.Errorf("%w: LeaseDuration %v must be greater than RenewDeadline %v", ErrInvalidConfig, d.LeaseDuration, d.RenewDeadline)
	}
	if d.RenewDeadline <= d.RetryPeriod {
		return fmt.Errorf("%w: RenewDeadline %v must be greater than RetryPeriod %v", ErrInvalidConfig, d.RenewDeadline, d.RetryPeriod)
	}
	if c.Callbacks.OnStartedLeading == nil {
		return fmt.Errorf("%w: Callbacks.OnStartedLeading is nil", ErrInvalidConfig)
	}
	return nil
}

// withDefaults returns a copy of c with defaults filled in (identity
// excluded: that is generated once, in New).
func (c *Config) withDefaults() Config {
	d := *c
	if d.LeaseDuration == 0 {
		d.LeaseDuration = DefaultLeaseDuration
	}
	if d.RenewDeadline == 0 {
		d.RenewDeadline = DefaultRenewDeadline
	}
	if d.RetryPeriod == 0 {
		d.RetryPeriod = DefaultRetryPeriod
	}
	if d.Clock == nil {
		d.Clock = realClock
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// DefaultIdentity returns the hostname followed by "_" and a random
// suffix, so two processes on one host never share an identity.
func DefaultIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "candidate"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + "_" + hex.EncodeToString(b[:])
}
