package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The admission chain every resource's writes pass, in order:
// NamespaceLifecycle, then ResourceQuota. Each plugin owns its state: its
// informer (a list-watch cache of what it looks up), and the quota plugin
// its lock.

// namespaceLifecycle refuses to create anything in a namespace that does
// not exist (404) or is being deleted (403, cause NamespaceTerminating),
// and refuses to delete the namespaces the server needs (default,
// kube-system, kube-public), as Kubernetes' NamespaceLifecycle does. The
// deletion itself is the store's rule (a namespace is only marked
// Terminating while spec.finalizers remain) and the namespace
// controller's work (examples/controllers/namespace).
type namespaceLifecycle struct {
	namespaces *store.Store[*api.Namespace]
	cache      *informer.Informer[*api.Namespace]
	// deleting holds the names of namespaces deleted through this server,
	// which the cache may still show as they were: they are read live.
	deleting sync.Map
}

var _ rest.ValidatingAdmission = (*namespaceLifecycle)(nil)

// NamespaceTerminatingCause is the StatusCause type of the 403 for a create
// in a terminating namespace, as Kubernetes names it.
const NamespaceTerminatingCause = "NamespaceTerminating"

// immortalNamespaces may not be deleted.
var immortalNamespaces = []string{"default", "kube-system", "kube-public"}

func newNamespaceLifecycle(namespaces *store.Store[*api.Namespace], log *slog.Logger) (*namespaceLifecycle, error) {
	inf, err := informer.New[*api.Namespace](namespaces, informer.Config[*api.Namespace]{Name: "admission-namespaces", Logger: log})
	if err != nil {
		return nil, err
	}
	return &namespaceLifecycle{namespaces: namespaces, cache: inf}, nil
}

// Name implements rest.AdmissionPlugin.
func (l *namespaceLifecycle) Name() string { return "NamespaceLifecycle" }

// Run keeps the namespace cache until ctx ends.
func (l *namespaceLifecycle) Run(ctx context.Context) error { return l.cache.Run(ctx) }

// Validate refuses deletes of the immortal namespaces (403) and creates in
// a missing namespace (404) or a terminating one (403). The namespace is
// looked up in the cache first; a miss (a namespace created a moment ago,
// or the cache not synced yet), or a namespace deleted through this server,
// is read from the store.
func (l *namespaceLifecycle) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if a.Resource.Name == api.NamespaceResource.Name && a.Resource.APIVersion == api.NamespaceResource.APIVersion {
		if a.Verb == "delete" {
			if slices.Contains(immortalNamespaces, a.Name) {
				return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf("namespaces %q is forbidden: this namespace may not be deleted", a.Name))
			}
			if !store.DryRunFrom(ctx) {
				l.deleting.Store(a.Name, struct{}{})
			}
		}
		return write(ctx)
	}
	if a.Verb != "create" || !a.Resource.Namespaced || a.Subresource != "" {
		return write(ctx)
	}
	ns := a.Namespace
	n, ok := l.cache.Get("", ns)
	if _, deleted := l.deleting.Load(ns); !ok || deleted || n.Status.Phase != api.NamespaceTerminating {
		// Read live unless the cache already says Terminating (which only
		// ever changes to gone): a cached Active may be stale.
		var err error
		n, err = l.namespaces.Get(ctx, "", ns)
		if errors.Is(err, store.ErrNotFound) {
			st := watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf("namespaces %q not found", ns))
			st.Details = &watch.StatusDetails{Name: ns, Kind: "namespaces"}
			return &watch.StatusError{Status: *st}
		}
		if err != nil {
			return err
		}
	}
	if n.Status.Phase == api.NamespaceTerminating || n.DeletionTimestamp != nil {
		name := ""
		if a.Object != nil {
			name = a.Object.GetObjectMeta().Name
		}
		st := watch.NewStatus(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf(
			"%s %q is forbidden: unable to create new content in namespace %s because it is being terminated", a.Resource.Name, name, ns))
		st.Details = &watch.StatusDetails{Name: name, Kind: a.Resource.Name, Causes: []watch.StatusCause{{
			Type: NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", ns), Field: "metadata.namespace"}}}
		return &watch.StatusError{Status: *st}
	}
	return write(ctx)
}

// resourceQuota enforces each namespace's ResourceQuotas on pod creates:
// pods, requests and limits of cpu and memory (registry.PodUsage,
// registry.CheckQuota). Pod creates in a namespace with a quota take the
// plugin's lock across the check and the write, so two creates in one
// apiserver cannot both take a quota's last unit.
type resourceQuota struct {
	pods   *store.Store[*api.Pod]
	quotas *store.Store[*api.ResourceQuota]
	cache  *informer.Informer[*api.ResourceQuota]
	// mu serializes pod creates in namespaces with a quota.
	mu sync.Mutex
	// written holds namespaces whose quotas were written through this
	// server: enforced at once, before the cache has seen the quota.
	written sync.Map
}

var _ rest.ValidatingAdmission = (*resourceQuota)(nil)

const byNamespace = "namespace"

func newResourceQuota(pods *store.Store[*api.Pod], quotas *store.Store[*api.ResourceQuota], log *slog.Logger) (*resourceQuota, error) {
	inf, err := informer.New[*api.ResourceQuota](quotas, informer.Config[*api.ResourceQuota]{
		Name: "admission-resourcequotas", Logger: log,
		Indexers: map[string]informer.IndexFunc[*api.ResourceQuota]{
			byNamespace: func(q *api.ResourceQuota) []string { return []string{q.Namespace} },
		},
	})
	if err != nil {
		return nil, err
	}
	return &resourceQuota{pods: pods, quotas: quotas, cache: inf}, nil
}

// Name implements rest.AdmissionPlugin.
func (q *resourceQuota) Name() string { return "ResourceQuota" }

// Run keeps the quota cache until ctx ends.
func (q *resourceQuota) Run(ctx context.Context) error { return q.cache.Run(ctx) }

// Validate checks a pod create against every quota of its namespace (403
// "exceeded quota" when one would be exceeded), holding the plugin's lock
// across the check and the write.
func (q *resourceQuota) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if a.Resource == api.ResourceQuotaResource && a.Verb != "delete" {
		q.written.Store(a.Namespace, struct{}{})
		return write(ctx)
	}
	if a.Resource != api.PodResource || a.Verb != "create" || a.Subresource != "" {
		return write(ctx)
	}
	has, err := q.hasQuota(ctx, a.Namespace)
	if err != nil || !has {
		if err != nil {
			return err
		}
		return write(ctx)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.check(ctx, a.Object.(*api.Pod)); err != nil {
		return err
	}
	return write(ctx)
}

// hasQuota reports whether namespace ns has (or may have) a quota: true
// for a namespace whose quotas were written through this server, else what
// the synced cache says (a quota written by another client is enforced
// from the moment the cache sees it), else what the store says.
func (q *resourceQuota) hasQuota(ctx context.Context, ns string) (bool, error) {
	if _, ok := q.written.Load(ns); ok {
		return true, nil
	}
	if q.cache.HasSynced() {
		in, err := q.cache.ByIndex(byNamespace, ns)
		return len(in) > 0, err
	}
	l, err := q.quotas.List(ctx, ns, store.ListOptions{Limit: 1})
	if err != nil {
		return false, err
	}
	return len(l.Items) > 0, nil
}

// check reads the namespace's quotas and pods from the store (under the
// lock, so the usage is exact) and checks p's usage against each quota.
func (q *resourceQuota) check(ctx context.Context, p *api.Pod) error {
	quotas, err := q.quotas.List(ctx, p.Namespace, store.ListOptions{})
	if err != nil || len(quotas.Items) == 0 {
		return err
	}
	pods, err := q.pods.List(ctx, p.Namespace, store.ListOptions{})
	if err != nil {
		return err
	}
	used := api.ResourceList{}
	for _, other := range pods.Items {
		used = used.Add(registry.PodUsage(other))
	}
	add := registry.PodUsage(p)
	for _, quota := range quotas.Items {
		if err := registry.CheckQuota(quota.Name, quota.Spec.Hard, used, add); err != nil {
			return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf("pods %q is forbidden: %v", p.Name, err))
		}
	}
	return nil
}
