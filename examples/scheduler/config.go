package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
)

// Defaults of Config.
const (
	// DefaultSchedulerName is the profile that pods without
	// spec.schedulerName get (the apiserver defaults it to this name).
	DefaultSchedulerName = "default-scheduler"
	// DefaultInitialBackoff is the first retry delay of a failed pod.
	DefaultInitialBackoff = time.Second
	// DefaultMaxBackoff caps the doubling retry delay.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultParallelism is how many goroutines filter and score nodes.
	DefaultParallelism = 16
	// DefaultBindWorkers bounds the bindings in flight at once.
	DefaultBindWorkers = 64
)

// Default plugin weights, as in Kubernetes' default profile.
var defaultWeights = map[string]int64{
	plugins.TaintTolerationName:                 3,
	plugins.NodeAffinityName:                    2,
	plugins.NodeResourcesFitName:                1,
	plugins.NodeResourcesBalancedAllocationName: 1,
	plugins.InterPodAffinityName:                2,
	plugins.PodTopologySpreadName:               2,
}

// Profile is a set of plugins used for the pods whose spec.schedulerName
// is SchedulerName.
type Profile struct {
	// SchedulerName selects the pods this profile schedules.
	SchedulerName string
	// Plugins are the profile's plugins, each used at every extension
	// point it implements, in order. nil means DefaultPlugins(); to add an
	// out-of-tree plugin to the defaults, append it to DefaultPlugins().
	Plugins []framework.Plugin
	// Weights multiply each score plugin's normalized score, by plugin
	// name; a score plugin missing here weighs its Kubernetes default (3
	// for TaintToleration, 2 for NodeAffinity, InterPodAffinity and
	// PodTopologySpread, else 1).
	Weights map[string]int64
}

// DefaultPlugins returns new instances of the default plugins, in
// Kubernetes' order.
func DefaultPlugins() []framework.Plugin {
	fit, _ := plugins.NewNodeResourcesFit(plugins.FitArgs{})
	return []framework.Plugin{
		plugins.NodeUnschedulable{}, plugins.NodeName{}, plugins.TaintToleration{},
		plugins.NodeAffinity{}, plugins.NodePorts{}, fit, plugins.NewVolumeBinding(nil), plugins.PodTopologySpread{},
		plugins.NewInterPodAffinity(0), plugins.BalancedAllocation{}, plugins.ImageLocality{}, NewDefaultPreemption(),
	}
}

// Config configures a Scheduler. Client is required; every other field
// has a documented default.
type Config struct {
	// Client reaches the apiserver.
	Client *client.Clientset
	// Profiles are the scheduling profiles; default one profile named
	// DefaultSchedulerName with DefaultPlugins(). Pods naming a scheduler
	// no profile has are left alone.
	Profiles []Profile
	// PercentageOfNodesToScore bounds how many feasible nodes are looked
	// for before scoring, as a percentage of the nodes (0: Kubernetes'
	// adaptive default, 50% minus 1% per 125 nodes, at least 5%; at least
	// 100 nodes are always looked for).
	PercentageOfNodesToScore int
	// Parallelism is how many goroutines filter and score (default
	// DefaultParallelism).
	Parallelism int
	// BindWorkers bounds concurrent bindings (default DefaultBindWorkers).
	BindWorkers int
	// InitialBackoff and MaxBackoff pace retries of failed pods (defaults
	// DefaultInitialBackoff, DefaultMaxBackoff).
	InitialBackoff, MaxBackoff time.Duration
	// Identity names this scheduler in events (default "default-scheduler").
	Identity string
	// Clock times backoff, events and conditions; default the real clock.
	Clock clockwork.Clock
	// Logger receives logs; default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the scheduler's metrics:
	// scheduler_schedule_attempts_total{result};
	// scheduler_scheduling_attempt_duration_seconds{result} (attempt start
	// to result, binding included);
	// scheduler_framework_extension_point_duration_seconds{extension_point,
	// status, profile} for every cycle;
	// scheduler_plugin_execution_duration_seconds{plugin, extension_point,
	// status} for 10% of cycles (as Kubernetes samples them);
	// scheduler_batched_cycles_total; and the queue depths
	// scheduler_pending_pods_{active,backoff,unschedulable}.
	Registerer prometheus.Registerer
	// LeaderElection, if set, makes the scheduler schedule only while it
	// leads, with the leader's fence on its writes; nil schedules at once.
	LeaderElection *LeaderElection
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("scheduler: Client is required")
	case c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100:
		return fmt.Errorf("scheduler: PercentageOfNodesToScore must be 0-100, got %d", c.PercentageOfNodesToScore)
	case c.Parallelism < 0:
		return fmt.Errorf("scheduler: Parallelism must not be negative, got %d", c.Parallelism)
	case c.BindWorkers < 0:
		return fmt.Errorf("scheduler: BindWorkers must not be negative, got %d", c.BindWorkers)
	case c.InitialBackoff < 0 || c.MaxBackoff < 0:
		return fmt.Errorf("scheduler: backoffs must not be negative, got %v and %v", c.InitialBackoff, c.MaxBackoff)
	case c.MaxBackoff > 0 && c.InitialBackoff > c.MaxBackoff:
		return fmt.Errorf("scheduler: InitialBackoff %v exceeds MaxBackoff %v", c.InitialBackoff, c.MaxBackoff)
	}
	if le := c.LeaderElection; le != nil {
		switch {
		case le.LeaseDuration < 0 || le.RenewDeadline < 0 || le.RetryPeriod < 0:
			return fmt.Errorf("scheduler: LeaderElection durations must not be negative, got %v, %v, %v", le.LeaseDuration, le.RenewDeadline, le.RetryPeriod)
		case le.LeaseDuration > 0 && le.RenewDeadline > 0 && le.RenewDeadline >= le.LeaseDuration:
			return fmt.Errorf("scheduler: LeaderElection.RenewDeadline %v must be less than LeaseDuration %v", le.RenewDeadline, le.LeaseDuration)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Profiles {
		if p.SchedulerName == "" {
			return fmt.Errorf("scheduler: profiles[%d]: SchedulerName is required", i)
		}
		if seen[p.SchedulerName] {
			return fmt.Errorf("scheduler: profiles[%d]: duplicate SchedulerName %q", i, p.SchedulerName)
		}
		seen[p.SchedulerName] = true
		names := map[string]bool{}
		for j, pl := range p.Plugins {
			if pl == nil {
				return fmt.Errorf("scheduler: profiles[%d] (%s): plugins[%d] is nil", i, p.SchedulerName, j)
			}
			if names[pl.Name()] {
				return fmt.Errorf("scheduler: profiles[%d] (%s): duplicate plugin %q", i, p.SchedulerName, pl.Name())
			}
			names[pl.Name()] = true
		}
		for name, w := range p.Weights {
			if w < 1 || w > 100 {
				return fmt.Errorf("scheduler: profiles[%d] (%s): weight of %q must be 1-100, got %d", i, p.SchedulerName, name, w)
			}
		}
	}
	return nil
}

func (c *Config) withDefaults() Config {
	out := *c
	if len(out.Profiles) == 0 {
		out.Profiles = []Profile{{SchedulerName: DefaultSchedulerName}}
	}
	if out.Parallelism == 0 {
		out.Parallelism = DefaultParallelism
	}
	if out.BindWorkers == 0 {
		out.BindWorkers = DefaultBindWorkers
	}
	if out.InitialBackoff == 0 {
		out.InitialBackoff = DefaultInitialBackoff
	}
	if out.MaxBackoff == 0 {
		out.MaxBackoff = max(DefaultMaxBackoff, out.InitialBackoff)
	}
	if out.Identity == "" {
		out.Identity = DefaultSchedulerName
	}
	if out.Clock == nil {
		out.Clock = clockwork.NewRealClock()
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out
}
