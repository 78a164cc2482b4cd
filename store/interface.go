package store

import (
	"context"

	"github.com/setpoint-dev/setpoint/watch"
)

// Interface is the typed object API that *Store[T] implements and that other
// implementations (for example an HTTP client of an apiserver) implement too,
// so that informers, election locks and controllers work the same over etcd
// and over the network. Its methods mean exactly what Store's methods mean.
type Interface[T Object] interface {
	Reader[T]
	Writer[T]
}

// Reader is the read half of Interface: what an informer needs.
type Reader[T Object] interface {
	Get(ctx context.Context, namespace, name string) (T, error)
	List(ctx context.Context, namespace string, opts ListOptions) (*List[T], error)
	Watch(ctx context.Context, namespace string, opts WatchOptions) (watch.Watcher[T], error)
}

// Writer is the write half of Interface. Fences travel in the context
// (WithFence) and must be honoured by every implementation.
type Writer[T Object] interface {
	Create(ctx context.Context, obj T) (T, error)
	Update(ctx context.Context, obj T) (T, error)
	Delete(ctx context.Context, namespace, name string, opts ...DeleteOption) (T, error)
	GuaranteedUpdate(ctx context.Context, namespace, name string, fn func(T) (T, error)) (T, error)
}

var _ Interface[Object] = (*Store[Object])(nil)
