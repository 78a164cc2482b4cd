package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/coordination"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
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
	// usage sums what the objects of namespace ns count against a quota.
	usage(ctx context.Context, ns string) (api.ResourceList, error)
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
		Protobuf:     protobufCodec[T](),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", r.kind.Resource().Name, err)
	}
	r.h = h
	return nil
}

// protobufCodec is the protobuf codec of a kind whose type carries no
// generated protobuf methods (the library's election.Lease), nil for the
// others: the REST layer finds the generated methods itself.
func protobufCodec[T store.Object]() *rest.ProtobufCodec[T] {
	var zero T
	if _, ok := any(zero).(*election.Lease); !ok {
		return nil
	}
	c := &rest.ProtobufCodec[*election.Lease]{
		Size:                 coordination.SizeLease,
		MarshalToSizedBuffer: coordination.MarshalLeaseToSizedBuffer,
		Unmarshal:            coordination.UnmarshalLease,
	}
	return any(c).(*rest.ProtobufCodec[T])
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

func (r *resourceOf[T]) usage(ctx context.Context, ns string) (api.ResourceList, error) {
	l, err := r.st.List(ctx, ns, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	u := api.ResourceList{}
	for _, o := range l.Items {
		u = u.Add(registry.ObjectUsage(r.st.Resource(), o))
	}
	return u, nil
}

// usage sums what the objects of resource res in namespace ns count
// against a quota, read from storage (not a cache).
func (rs *resources) usage(ctx context.Context, res store.Resource, ns string) (api.ResourceList, error) {
	for _, r := range rs.all {
		if r.descriptor().Resource() == res {
			return r.usage(ctx, ns)
		}
	}
	return nil, fmt.Errorf("quota usage: %s is not served", res.Name)
}

// resources are every served resource, with typed access to the ones the
// server's own parts (admission, binding, eviction, bootstrap) use.
type resources struct {
	all             []served
	namespaces      *resourceOf[*api.Namespace]
	pods            *resourceOf[*api.Pod]
	quotas          *resourceOf[*api.ResourceQuota]
	budgets         *resourceOf[*policy.PodDisruptionBudget]
	priorityClasses *resourceOf[*scheduling.PriorityClass]
	services        *resourceOf[*api.Service]
	endpointSlices  *resourceOf[*discovery.EndpointSlice]
	// The RBAC kinds: the authorizer's informers, the bootstrap policy
	// and the aggregation controller use them.
	roles               *resourceOf[*rbac.Role]
	clusterRoles        *resourceOf[*rbac.ClusterRole]
	roleBindings        *resourceOf[*rbac.RoleBinding]
	clusterRoleBindings *resourceOf[*rbac.ClusterRoleBinding]
}

// newResources creates the store of every kind in the registry and of
// the extra kinds. events.k8s.io events are stored as core events,
// through eventsBackend.
func newResources(b store.Backend, extra []ExtraKind) (*resources, error) {
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
	rs.budgets, err = newResource(b, registry.PodDisruptionBudgetKind)
	add(rs.budgets, err)
	rs.priorityClasses, err = newResource(b, registry.PriorityClassKind)
	add(rs.priorityClasses, err)
	add(newResource(b, registry.NodeKind))
	rs.services, err = newResource(b, registry.ServiceKind)
	add(rs.services, err)
	add(newResource(b, registry.EndpointsKind))
	add(newResource(b, registry.EventKind))
	add(newResource(eventsBackend{b}, registry.EventsV1Kind))
	add(newResource(b, registry.LimitRangeKind))
	add(newResource(b, registry.ConfigMapKind))
	add(newResource(b, registry.SecretKind))
	add(newResource(b, registry.ServiceAccountKind))
	add(newResource(b, registry.ReplicationControllerKind))
	add(newResource(b, registry.PodTemplateKind))
	add(newResource(b, registry.PersistentVolumeKind))
	add(newResource(b, registry.PersistentVolumeClaimKind))
	add(newResource(b, registry.LeaseKind))
	add(newResource(b, registry.ReplicaSetKind))
	add(newResource(b, registry.DeploymentKind))
	add(newResource(b, registry.StatefulSetKind))
	add(newResource(b, registry.DaemonSetKind))
	add(newResource(b, registry.ControllerRevisionKind))
	add(newResource(b, registry.JobKind))
	add(newResource(b, registry.CronJobKind))
	rs.endpointSlices, err = newResource(b, registry.EndpointSliceKind)
	add(rs.endpointSlices, err)
	add(newResource(b, registry.StorageClassKind))
	add(newResource(b, registry.CertificateSigningRequestKind))
	rs.roles, err = newResource(b, registry.RoleKind, store.WithPathSegmentNames())
	add(rs.roles, err)
	rs.clusterRoles, err = newResource(b, registry.ClusterRoleKind, store.WithPathSegmentNames())
	add(rs.clusterRoles, err)
	rs.roleBindings, err = newResource(b, registry.RoleBindingKind, store.WithPathSegmentNames())
	add(rs.roleBindings, err)
	rs.clusterRoleBindings, err = newResource(b, registry.ClusterRoleBindingKind, store.WithPathSegmentNames())
	add(rs.clusterRoleBindings, err)
	for _, k := range extra {
		add(k.newResource(b))
	}
	if len(rs.all) != len(registry.Kinds())+len(extra) && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("serving %d of the registry's %d kinds", len(rs.all), len(registry.Kinds())))
	}
	return rs, errors.Join(errs...)
}
