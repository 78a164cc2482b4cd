package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// served is one served resource, whatever its type.
type served interface {
	descriptor() api.Descriptor
	serve(w http.ResponseWriter, r *http.Request, info rest.RequestInfo)
	run(ctx context.Context) error
	// deleteIn deletes every object in namespace ns.
	deleteIn(ctx context.Context, ns string) error
}

type resourceOf[T store.Object] struct {
	kind *api.Kind[T]
	st   *store.Store[T]
	h    *rest.Handler[T]
}

func (r *resourceOf[T]) descriptor() api.Descriptor { return r.kind }

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
func register[T store.Object](s *Server, kind *api.Kind[T]) (*resourceOf[T], error) {
	st, err := store.New[T](s.backend, kind.Resource())
	if err != nil {
		return nil, err
	}
	cfg := rest.Config[T]{
		Store:            st,
		ListKind:         kind.ListKind(),
		Default:          kind.Default,
		ValidateCreate:   kind.Validate,
		ValidateUpdate:   kind.ValidateUpdate,
		PrepareForCreate: kind.PrepareForCreate,
		PrepareForUpdate: kind.PrepareForUpdate,
		FieldFilter:      kind.FieldFilter,
		Table:            kind.Table,
		PatchSchema:      kind.Schema(),
		Admit:            s.admit,
		MaxBodyBytes:     s.cfg.MaxBodyBytes,
		Logger:           s.log,
	}
	if kind.HasStatus() {
		cfg.PrepareForStatusUpdate = kind.PrepareForStatusUpdate
	}
	if kind.HasSubresource("scale") {
		cfg.Scale = &rest.ScaleFuncs[T]{
			Get:         func(o T) any { sc, _ := kind.Scale(o); return sc },
			SetReplicas: func(o T, n int32) { kind.SetReplicas(o, n) },
		}
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
	ns, e := register(s, api.NamespaceKind)
	add(e)
	if e == nil {
		s.namespaces = ns.st
	}
	pods, e := register(s, api.PodKind)
	add(e)
	if e == nil {
		s.pods = pods.st
	}
	quotas, e := register(s, api.ResourceQuotaKind)
	add(e)
	if e == nil {
		s.quotas = quotas.st
	}
	_, e = register(s, api.NodeKind)
	add(e)
	_, e = register(s, api.ServiceKind)
	add(e)
	_, e = register(s, api.EndpointsKind)
	add(e)
	_, e = register(s, api.EventKind)
	add(e)
	_, e = register(s, api.LeaseKind)
	add(e)
	_, e = register(s, api.ReplicaSetKind)
	add(e)
	_, e = register(s, api.DeploymentKind)
	add(e)
	_, e = register(s, api.StatefulSetKind)
	add(e)
	_, e = register(s, api.DaemonSetKind)
	add(e)
	return err
}
