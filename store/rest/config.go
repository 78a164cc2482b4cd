package rest

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/setpoint-dev/setpoint/store"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is
// zero: 3 MiB, as Kubernetes' apiserver.
const DefaultMaxBodyBytes = 3 << 20

// Config describes one served resource. Store is required; every other
// field has a documented default.
type Config[T store.Object] struct {
	// Store holds the objects; its Resource names the resource.
	Store *store.Store[T]
	// ListKind is the kind of a list, default Kind+"List".
	ListKind string
	// Strategy holds the resource's rules: defaulting and validation, and
	// the optional pieces Strategy documents. Default: no defaults, no
	// validation beyond the store's own, no subresources.
	Strategy Strategy[T]
	// Admission is the admission chain every write passes, in order: first
	// each MutatingAdmission's Admit (before validation), then each
	// ValidatingAdmission's Validate (after it, around the write). Every
	// plugin must implement at least one of the two.
	Admission []AdmissionPlugin
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
	// Clock stamps metadata.managedFields entries and times watches
	// (timeoutSeconds). Default: the real clock.
	Clock clockwork.Clock
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
	}
	for i, p := range c.Admission {
		if p == nil {
			return fmt.Errorf("rest: Config.Admission[%d] is nil", i)
		}
		_, m := p.(MutatingAdmission)
		_, v := p.(ValidatingAdmission)
		if !m && !v {
			return fmt.Errorf("rest: Config.Admission[%d] (%s) implements neither MutatingAdmission nor ValidatingAdmission", i, p.Name())
		}
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
