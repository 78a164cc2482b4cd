package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of LeaderElection, as kube-scheduler's.
const (
	DefaultLeaseNamespace = "kube-system"
	DefaultLeaseName      = "kube-scheduler"
)

// ErrLeadershipLost is returned by Run when this scheduler led and lost
// the lease: like kube-scheduler, it stops rather than carry state from
// an old term into a new one; restart it to campaign again.
var ErrLeadershipLost = errors.New("scheduler: leadership lost")

// LeaderElection makes replicas of the scheduler elect one leader through
// a Lease object (package election's object lock, through the
// apiserver). Only the leader schedules, and every write of its
// scheduling (bindings, preemption deletes, status, events) carries its
// term's fence, so a deposed leader's writes fail with 409 Fenced.
type LeaderElection struct {
	// LeaseNamespace and LeaseName name the Lease (defaults
	// DefaultLeaseNamespace, DefaultLeaseName).
	LeaseNamespace, LeaseName string
	// Identity names this replica in the Lease; it must be unique among
	// the replicas (default election.DefaultIdentity()).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod pace the election;
	// zero takes package election's defaults (15 s, 10 s, 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (s *Scheduler) newElector(le *LeaderElection) error {
	ns, name := le.LeaseNamespace, le.LeaseName
	if ns == "" {
		ns = DefaultLeaseNamespace
	}
	if name == "" {
		name = DefaultLeaseName
	}
	id := le.Identity
	if id == "" {
		id = election.DefaultIdentity()
	}
	lock, err := election.NewObjectLock(s.cfg.Client.Leases(), ns, name)
	if err != nil {
		return err
	}
	s.lost = make(chan struct{}, 1)
	s.elector, err = election.New(election.Config{Lock: lock, Identity: id,
		LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod,
		ReleaseOnCancel: true, Clock: s.cfg.Clock, Logger: s.log.With("component", "election"), Registerer: s.cfg.Registerer,
		Callbacks: election.Callbacks{
			OnStartedLeading: func(lctx context.Context) {
				s.log.Info("started leading", "identity", id)
				_ = s.schedule(lctx)
				s.lost <- struct{}{}
			},
			OnNewLeader: func(leader string) { s.log.Info("new leader", "identity", leader) },
		}})
	return err
}

// runElected campaigns and schedules while leading; it returns nil when
// ctx ends and ErrLeadershipLost when a term ended before.
func (s *Scheduler) runElected(ctx context.Context) error {
	// A standby is ready once its caches are: it can take over at once.
	if err := s.waitSynced(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	done := make(chan error, 1)
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { done <- s.elector.Run(ectx) }()
	select {
	case <-ctx.Done():
		<-done
		return nil
	case <-s.lost:
		stop()
		<-done
		if ctx.Err() != nil {
			return nil
		}
		return ErrLeadershipLost
	case err := <-done:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("scheduler: leader election: %w", err)
	}
}

// IsLeader reports whether this scheduler schedules now: always without
// LeaderElection, else while it holds the lease.
func (s *Scheduler) IsLeader() bool { return s.elector == nil || s.elector.IsLeader() }

// Fence returns the fence of the current term while this scheduler
// leads; false without LeaderElection or when not leading.
func (s *Scheduler) Fence() (store.Fence, bool) {
	if s.elector == nil {
		return store.Fence{}, false
	}
	return s.elector.Fence()
}
