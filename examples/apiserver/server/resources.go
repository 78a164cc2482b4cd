package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// served is one served resource, whatever its type.
type served interface {
	descriptor() registry.Descriptor
	serve(w http.ResponseWriter, r *http.Request, info rest.RequestInfo)
	run(ctx context.Context) error
	// deleteIn deletes every object in namespace ns.
	deleteIn(ctx context.Context, ns string) error
}

type resourceOf[T store.Object] struct {
	kind *registry.Kind[T]
	st   *store.Store[T]
	h    *rest.Handler[T]
}

func (r *resourceOf[T]) descriptor() registry.Descriptor { return r.kind }

func (r *resourceOf[T]) serve(w http.ResponseWriter, req *http.Request, info rest.RequestInfo) {
	r.h.Serve(w, req, info)
}

func (r *resourceOf[T]) run(ctx context.Context) error { return r.h.Run(ctx) }

func (r *resourceOf[T]) deleteIn(ctx context.Context, ns string) error {
	if !r.kind.Resource().Namespaced {
		return nil
	}
	l, err := r.st.List(ctx, ns, store.ListOptions{})
	if err != nil {
		return err
	}
	for _, obj := range l.Items {
		if _, err := r.st.Delete(ctx, ns, obj.GetObjectMeta().Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// register builds the store and REST handler of kind.
func register[T store.Object](s *Server, kind *registry.Kind[T]) (*resourceOf[T], error) {
	st, err := store.New[T](s.backend, kind.Resource())
	if err != nil {
		return nil, err
	}
	cfg := rest.Config[T]{
		Store:        st,
		ListKind:     kind.ListKind(),
		Strategy:     kind.Strategy(),
		Admission:    []rest.AdmissionPlugin{admissionFunc(s.admit)},
		MaxBodyBytes: s.cfg.MaxBodyBytes,
		Logger:       s.log,
	}
	h, err := rest.NewHandler(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind.Resource().Name, err)
	}
	r := &resourceOf[T]{kind: kind, st: st, h: h}
	s.resources[kind.Resource().APIVersion+"/"+kind.Resource().Name] = r
	return r, nil
}

func (s *Server) registerAll() error {
	var err error
	add := func(e error) {
		if err == nil {
			err = e
		}
	}
	ns, e := register(s, registry.NamespaceKind)
	add(e)
	if e == nil {
		s.namespaces = ns.st
	}
	pods, e := register(s, registry.PodKind)
	add(e)
	if e == nil {
		s.pods = pods.st
	}
	quotas, e := register(s, registry.ResourceQuotaKind)
	add(e)
	if e == nil {
		s.quotas = quotas.st
	}
	_, e = register(s, registry.NodeKind)
	add(e)
	_, e = register(s, registry.ServiceKind)
	add(e)
	_, e = register(s, registry.EndpointsKind)
	add(e)
	_, e = register(s, registry.EventKind)
	add(e)
	_, e = register(s, registry.LeaseKind)
	add(e)
	_, e = register(s, registry.ReplicaSetKind)
	add(e)
	_, e = register(s, registry.DeploymentKind)
	add(e)
	_, e = register(s, registry.StatefulSetKind)
	add(e)
	_, e = register(s, registry.DaemonSetKind)
	add(e)
	return err
}
