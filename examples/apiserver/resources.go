package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// served is one served resource, whatever its type.
type served interface {
	descriptor() registry.Descriptor
	// start builds the REST handler with the admission chain.
	start(admission []rest.AdmissionPlugin, maxBody int64, log *slog.Logger) error
	serve(w http.ResponseWriter, r *http.Request, info rest.RequestInfo)
	// run runs the watch cache until ctx ends.
	run(ctx context.Context) error
}

// resourceOf is a kind's store and REST handler.
type resourceOf[T store.Object] struct {
	kind *registry.Kind[T]
	st   *store.Store[T]
	h    *rest.Handler[T]
}

func newResource[T store.Object](b store.Backend, kind *registry.Kind[T], opts ...store.Option) (*resourceOf[T], error) {
	st, err := store.New[T](b, kind.Resource(), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind.Resource().Name, err)
	}
	return &resourceOf[T]{kind: kind, st: st}, nil
}

func (r *resourceOf[T]) descriptor() registry.Descriptor { return r.kind }

func (r *resourceOf[T]) start(admission []rest.AdmissionPlugin, maxBody int64, log *slog.Logger) error {
	h, err := rest.NewHandler(rest.Config[T]{
		Store:        r.st,
		ListKind:     r.kind.ListKind(),
		Strategy:     r.kind.Strategy(),
		Admission:    admission,
		MaxBodyBytes: maxBody,
		Logger:       log,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", r.kind.Resource().Name, err)
	}
	r.h = h
	return nil
}

func (r *resourceOf[T]) serve(w http.ResponseWriter, req *http.Request, info rest.RequestInfo) {
	r.h.Serve(w, req, info)
}

func (r *resourceOf[T]) run(ctx context.Context) error {
	if err := r.h.Run(ctx); err != nil {
		return fmt.Errorf("%s watch cache: %w", r.kind.Resource().Name, err)
	}
	return nil
}

// resources are every served resource, with typed access to the ones the
// server's own parts (admission, binding) use.
type resources struct {
	all        []served
	namespaces *resourceOf[*api.Namespace]
	pods       *resourceOf[*api.Pod]
	quotas     *resourceOf[*api.ResourceQuota]
}

// newResources creates the store of every kind in the registry.
func newResources(b store.Backend) (*resources, error) {
	rs := &resources{}
	var errs []error
	add := func(r served, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		rs.all = append(rs.all, r)
	}
	var err error
	// A namespace goes only once its spec.finalizers are gone (the
	// namespace controller removes "kubernetes" when the namespace is
	// empty): every delete marks it Terminating, as in Kubernetes.
	rs.namespaces, err = newResource(b, registry.NamespaceKind, store.WithFinalizing(
		func(n *api.Namespace) bool { return len(n.Spec.Finalizers) > 0 },
		func(n *api.Namespace) { n.Status.Phase = api.NamespaceTerminating }))
	add(rs.namespaces, err)
	rs.pods, err = newResource(b, registry.PodKind)
	add(rs.pods, err)
	rs.quotas, err = newResource(b, registry.ResourceQuotaKind)
	add(rs.quotas, err)
	add(newResource(b, registry.NodeKind))
	add(newResource(b, registry.ServiceKind))
	add(newResource(b, registry.EndpointsKind))
	add(newResource(b, registry.EventKind))
	add(newResource(b, registry.LeaseKind))
	add(newResource(b, registry.ReplicaSetKind))
	add(newResource(b, registry.DeploymentKind))
	add(newResource(b, registry.StatefulSetKind))
	add(newResource(b, registry.DaemonSetKind))
	if len(rs.all) != len(registry.Kinds()) && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("serving %d of the registry's %d kinds", len(rs.all), len(registry.Kinds())))
	}
	return rs, errors.Join(errs...)
}
