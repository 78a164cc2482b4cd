package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	// DefaultWorkers is Kubernetes' --concurrent-replicaset-syncs default.
	DefaultWorkers = 5
	// DefaultBurstReplicas is how many pods one sync creates or deletes at
	// most: Kubernetes' BurstReplicas.
	DefaultBurstReplicas = 500
)

// Config configures a replica set (or replication controller) controller.
// Client is required; every other field has a documented default.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Workers is how many replica sets are synced at once. Default
	// DefaultWorkers.
	Workers int
	// BurstReplicas bounds the pods one sync creates or deletes. Default
	// DefaultBurstReplicas.
	BurstReplicas int
	// Recorder, if set, receives the controller's Events.
	Recorder *controllerutil.Recorder
	// Clock times availability (minReadySeconds), expectations and
	// retries. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the controller's logs, keyed by object. Default
	// discard.
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics (queue depth,
	// reconcile latency and errors).
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("replicaset: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("replicaset: Workers %d is negative", c.Workers)
	case c.BurstReplicas < 0:
		return fmt.Errorf("replicaset: BurstReplicas %d is negative", c.BurstReplicas)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.BurstReplicas == 0 {
		c.BurstReplicas = DefaultBurstReplicas
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Kind adapts a replica-set-like resource to the controller: the
// controller works on apps.ReplicaSet values, and Kind converts to and
// from the stored kind (identity for ReplicaSets; ReplicationControllers
// convert, as Kubernetes' replication controller does).
type Kind struct {
	// Name names the controller in logs and metrics ("replicaset").
	Name string
	// Resource is the owner resource (references, events).
	Resource store.Resource
	// Informer returns the shared informer of the owners (as replica
	// sets), its cached lookup by namespace and name, and its list.
	Start func(cs *client.Clientset) (Owners, error)
}

// Owners is a cache of owners seen as replica sets.
type Owners interface {
	// Get returns the cached owner, converted.
	Get(namespace, name string) (*apps.ReplicaSet, bool)
	// InNamespace returns the cached owners of a namespace ("": of all
	// namespaces), converted.
	InNamespace(namespace string) []*apps.ReplicaSet
	// Fresh reads the owner from the apiserver (for adoption checks).
	Fresh(ctx context.Context, namespace, name string) (*apps.ReplicaSet, error)
	// UpdateStatus writes rs's status (compare-and-swap on its
	// resourceVersion) and returns the stored owner, converted.
	UpdateStatus(ctx context.Context, rs *apps.ReplicaSet) (*apps.ReplicaSet, error)
	// AddHandler registers h for the owners' changes, converted.
	AddHandler(h informer.Handler[*apps.ReplicaSet]) error
	// WaitForSync waits for the owners' cache.
	WaitForSync(ctx context.Context) error
}
