package rest

import (
	"context"

	"github.com/setpoint-dev/setpoint/store"
)

// deleteObject deletes one object, gracefully when the strategy is a
// GracefulDeleter (grace is the client's gracePeriodSeconds, nil when
// unset). pending reports a graceful deletion that only marked the object:
// it is answered 200 with the object, not 202 as a deletion held by
// finalizers.
func (h *Handler[T]) deleteObject(ctx context.Context, namespace, name string, grace *int64, opts ...store.DeleteOption) (out T, pending bool, err error) {
	g := h.rules.graceful
	if g == nil {
		out, err = h.st.Delete(ctx, namespace, name, opts...)
		return out, false, err
	}
	out, pending, err = h.st.DeleteGracefully(ctx, namespace, name, func(cur T) int64 { return g.GracePeriod(cur, grace) }, opts...)
	if err != nil {
		return out, false, err
	}
	m := out.GetObjectMeta()
	return out, pending && m.DeletionGracePeriodSeconds != nil && *m.DeletionGracePeriodSeconds > 0, nil
}
