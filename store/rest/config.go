package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is
// zero: 3 MiB, as Kubernetes' apiserver.
const DefaultMaxBodyBytes = 3 << 20

// Attributes describe a write for admission: what is being done to which
// object. Object is the object about to be written (nil for delete);
// OldObject the stored one (nil for create and delete). Admission must not
// modify OldObject; it may modify Object only in a mutating step before
// validation (use Config.Default for that).
type Attributes struct {
	Verb        string
	Resource    store.Resource
	Namespace   string
	Name        string
	Subresource string
	Object      store.Object
	OldObject   store.Object
}

// AdmitFunc checks a write after defaulting and validation and before the
// store sees it. An error rejects the request and nothing is written; a
// *StatusError chooses the code, any other error maps through ErrorStatus
// (errors wrapping store.ErrInvalid give 422).
type AdmitFunc func(ctx context.Context, a Attributes) error

// Config describes one served resource. Store is required; every hook is
// optional.
type Config[T store.Object] struct {
	// Store holds the objects; its Resource names the resource.
	Store *store.Store[T]
	// ListKind is the kind of a list, default Kind+"List".
	ListKind string
	// Default fills unset fields of an object about to be written.
	Default func(T)
	// ValidateCreate checks an object about to be created; return
	// store.FieldErrors so the 422 names every field.
	ValidateCreate func(T) error
	// ValidateUpdate checks new as the replacement of old (default:
	// ValidateCreate(new)).
	ValidateUpdate func(old, new T) error
	// PrepareForCreate resets what a client may not set on create (for
	// example the status, when there is a status subresource).
	PrepareForCreate func(T)
	// PrepareForUpdate makes an update of the main resource keep what only
	// a subresource changes (for example copies old's status into new).
	PrepareForUpdate func(new, old T)
	// PrepareForStatusUpdate returns the object a status update writes: old
	// with new's status and new's resourceVersion. Setting it enables the
	// status subresource.
	PrepareForStatusUpdate func(new, old T) T
	// FieldFilter compiles a fieldSelector; errors should wrap
	// store.ErrInvalid and name the problem (answered with 400). Default:
	// only metadata.name and metadata.namespace.
	FieldFilter func(selector string) (func(store.Object) bool, error)
	// Table renders objects for "kubectl get"; default NAME and AGE.
	Table func(objs []T, opts table.Options) (*table.Table, error)
	// PatchSchema is the strategic merge patch schema of T (default
	// patch.SchemaFor of T's element type).
	PatchSchema *patch.Schema
	// Scale, if set, serves the scale subresource (autoscaling/v1 Scale).
	Scale *ScaleFuncs[T]
	// Admit is the admission chain.
	Admit AdmitFunc
	// MaxBodyBytes limits request bodies (default DefaultMaxBodyBytes);
	// larger ones get 413 and write nothing.
	MaxBodyBytes int64
	// WatchCache configures the watch cache the handler runs (one store
	// watch for all watchers; see store.WatchCache): its window in events
	// and bytes, each watcher's byte budget, backoff. The zero value means
	// all defaults; its Logger and Registerer default to the fields below.
	// It must be left zero when Store has a watch cache of its own
	// (store.WithWatchCache), which the handler then uses.
	WatchCache store.WatchCacheConfig
	// Logger receives watch-cache events; default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the watch cache's metrics.
	Registerer prometheus.Registerer
}

// ScaleFuncs connect a resource to its scale subresource.
type ScaleFuncs[T store.Object] struct {
	// Get returns obj's Scale object (any JSON value shaped like
	// autoscaling/v1 Scale: metadata, spec.replicas, status).
	Get func(obj T) any
	// SetReplicas sets obj's desired replicas.
	SetReplicas func(obj T, replicas int32)
}

// Validate reports the first invalid field.
func (c *Config[T]) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("rest: Config.Store is required")
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("rest: Config.MaxBodyBytes must not be negative, got %d", c.MaxBodyBytes)
	case c.Store.WatchCache() != nil && !isZeroWatchCacheConfig(c.WatchCache):
		return errors.New("rest: Config.WatchCache must be left zero when Store has its own watch cache: configure that one")
	case c.Scale != nil && (c.Scale.Get == nil || c.Scale.SetReplicas == nil):
		return errors.New("rest: Config.Scale needs both Get and SetReplicas")
	}
	if err := c.WatchCache.Validate(); err != nil {
		return fmt.Errorf("rest: Config.%w", err)
	}
	return nil
}

func isZeroWatchCacheConfig(c store.WatchCacheConfig) bool {
	return c.Window == 0 && c.WindowBytes == 0 && c.WatcherBytes == 0 && c.MinBackoff == 0 && c.MaxBackoff == 0 &&
		c.Clock == nil && c.Logger == nil && c.Registerer == nil
}
