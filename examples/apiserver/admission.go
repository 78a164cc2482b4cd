package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The admission chain every resource's writes pass, in order:
// NamespaceLifecycle, ServiceAllocation (servicealloc.go),
// DefaultTolerationSeconds (mutating: tolerations.go), Priority (mutating
// pods, validating PriorityClasses: priority.go), ResourceQuota, the
// RBAC escalation check, then NodeRestriction.
// Each plugin owns its state: its informer (a list-watch cache of what it
// looks up), and the quota plugin its lock.

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
// looked up in the cache first, and the create is made on the condition
// that the namespace is still at the revision the cache showed, in the
// create's own transaction (store.SideWrite CheckOnly): so no create lands
// in a namespace that began terminating or was deleted a moment ago, and
// the common case costs no extra read. A miss (a namespace created a
// moment ago, or the cache not synced yet), a namespace deleted through
// this server, or a failed condition reads the namespace from the store
// and creates on the condition that it is still as read.
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
	key := l.namespaces.Key("", ns)
	n, ok := l.cache.Get("", ns)
	if _, deleted := l.deleting.Load(ns); ok && !deleted {
		if err := l.refuseTerminating(a, n); err != nil {
			return err // Terminating only ever changes to gone
		}
		// The cache says Active: create only if the namespace is still
		// as the cache saw it, in the create's own transaction.
		err := write(store.WithSideWrites(ctx, namespaceUnchanged(key, n)))
		if ce := (*store.ConflictError)(nil); !errors.As(err, &ce) || ce.Key != key {
			return err
		}
	}
	// Not in the cache (created a moment ago, or the cache not synced),
	// deleted through this server, or changed since the cache saw it:
	// read it live, and create only if it is still as read.
	for attempt := 1; ; attempt++ {
		n, err := l.namespaces.Get(ctx, "", ns)
		if errors.Is(err, store.ErrNotFound) {
			st := watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf("namespaces %q not found", ns))
			st.Details = &watch.StatusDetails{Name: ns, Kind: "namespaces"}
			return &watch.StatusError{Status: *st}
		}
		if err != nil {
			return err
		}
		if err := l.refuseTerminating(a, n); err != nil {
			return err
		}
		err = write(store.WithSideWrites(ctx, namespaceUnchanged(key, n)))
		if ce := (*store.ConflictError)(nil); errors.As(err, &ce) && ce.Key == key && attempt < maxNamespaceReads {
			continue
		}
		return err
	}
}

// maxNamespaceReads bounds how often a create reads its namespace again
// after the namespace changed under it.
const maxNamespaceReads = 8

// namespaceUnchanged is the condition that the namespace at key is still
// at n's revision.
func namespaceUnchanged(key string, n *api.Namespace) store.SideWrite {
	rev, _ := store.ParseRevision(n.ResourceVersion) // a stored object's
	return store.SideWrite{Key: key, ModRevision: rev, CheckOnly: true}
}

// refuseTerminating is the 403 for a create in namespace n, if n is being
// deleted.
func (l *namespaceLifecycle) refuseTerminating(a rest.Attributes, n *api.Namespace) error {
	if n.Status.Phase != api.NamespaceTerminating && n.DeletionTimestamp == nil {
		return nil
	}
	name := ""
	if a.Object != nil {
		name = a.Object.GetObjectMeta().Name
	}
	st := watch.NewStatus(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf(
		"%s %q is forbidden: unable to create new content in namespace %s because it is being terminated", a.Resource.Name, name, a.Namespace))
	st.Details = &watch.StatusDetails{Name: name, Kind: a.Resource.Name, Causes: []watch.StatusCause{{
		Type: NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", a.Namespace), Field: "metadata.namespace"}}}
	return &watch.StatusError{Status: *st}
}

// resourceQuota enforces each namespace's ResourceQuotas on creates: pods,
// requests and limits of cpu and memory (registry.PodUsage), and the object
// counts count/<resource>[.<group>], services and resourcequotas
// (registry.ObjectUsage, registry.CheckQuota). A create that a quota
// limits is charged as Kubernetes does: the quota's status.used is written
// in the same transaction as the object, compare-and-swap on the quota as
// read before the usage was counted (store.WithSideWrites), so a quota
// holds across any number of apiservers; a create that loses the race to
// another charge counts again. Creates in namespaces with a quota also take
// the plugin's lock, so creates through one apiserver do not race at all.
type resourceQuota struct {
	quotas *store.Store[*api.ResourceQuota]
	// usage sums what the stored objects of a resource in a namespace
	// count against a quota, read from storage.
	usage func(ctx context.Context, r store.Resource, ns string) (api.ResourceList, error)
	cache *informer.Informer[*api.ResourceQuota]
	// mu serializes creates in namespaces with a quota.
	mu sync.Mutex
	// written holds namespaces whose quotas were written through this
	// server: enforced at once, before the cache has seen the quota.
	written sync.Map
}

var _ rest.ValidatingAdmission = (*resourceQuota)(nil)

const byNamespace = "namespace"

// maxQuotaCharges bounds how often one create counts usage again after
// losing the quota's compare-and-swap to another apiserver's create.
const maxQuotaCharges = 16

func newResourceQuota(quotas *store.Store[*api.ResourceQuota], usage func(context.Context, store.Resource, string) (api.ResourceList, error), log *slog.Logger) (*resourceQuota, error) {
	inf, err := informer.New[*api.ResourceQuota](quotas, informer.Config[*api.ResourceQuota]{
		Name: "admission-resourcequotas", Logger: log,
		Indexers: map[string]informer.IndexFunc[*api.ResourceQuota]{
			byNamespace: func(q *api.ResourceQuota) []string { return []string{q.Namespace} },
		},
	})
	if err != nil {
		return nil, err
	}
	return &resourceQuota{quotas: quotas, usage: usage, cache: inf}, nil
}

// Name implements rest.AdmissionPlugin.
func (q *resourceQuota) Name() string { return "ResourceQuota" }

// Run keeps the quota cache until ctx ends.
func (q *resourceQuota) Run(ctx context.Context) error { return q.cache.Run(ctx) }

// Validate checks a create against every quota of its namespace (403
// "exceeded quota" when one would be exceeded) and charges the quotas that
// limit it in the create's own transaction.
func (q *resourceQuota) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if a.Resource == api.ResourceQuotaResource && a.Verb != "delete" {
		q.written.Store(a.Namespace, struct{}{})
	}
	if a.Verb != "create" || a.Subresource != "" || a.Namespace == "" || a.Object == nil {
		return write(ctx)
	}
	has, none, err := q.hasQuota(ctx, a.Namespace)
	if err != nil {
		return err
	}
	if !has {
		// No quota as of the cache's revision: create on the condition
		// that no quota of the namespace was written since.
		err := write(store.WithSideWrites(ctx, none))
		if ce := (*store.ConflictError)(nil); !errors.As(err, &ce) || ce.Key != none.Key {
			return err
		}
		// a quota appeared a moment ago: charge it
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	quotaKeys := q.quotas.Key(a.Namespace, "")
	for attempt := 1; ; attempt++ {
		charges, err := q.charge(ctx, a)
		if err != nil {
			return err
		}
		err = write(store.WithSideWrites(ctx, charges...))
		var ce *store.ConflictError
		if errors.As(err, &ce) && strings.HasPrefix(ce.Key, quotaKeys) && attempt < maxQuotaCharges {
			continue // another apiserver charged the quota first: count again
		}
		return err
	}
}

// charge reads the namespace's quotas, then (so the count is at least as
// new as every quota read) the usage of a's resource; it checks a's usage
// against each quota and returns the side writes that charge the quotas
// limiting it.
func (q *resourceQuota) charge(ctx context.Context, a rest.Attributes) ([]store.SideWrite, error) {
	quotas, err := q.quotas.List(ctx, a.Namespace, store.ListOptions{})
	if err != nil || len(quotas.Items) == 0 {
		return nil, err
	}
	add := registry.ObjectUsage(a.Resource, a.Object)
	var used api.ResourceList
	var charges []store.SideWrite
	for _, quota := range quotas.Items {
		if !registry.QuotaLimits(quota.Spec.Hard, add) {
			// nothing to charge; a pod may still lack a request the quota needs
			if err := registry.CheckQuota(quota.Name, quota.Spec.Hard, api.ResourceList{}, add); err != nil {
				return nil, quotaRefusal(a, err)
			}
			continue
		}
		if used == nil {
			if used, err = q.usage(ctx, a.Resource, a.Namespace); err != nil {
				return nil, err
			}
		}
		if err := registry.CheckQuota(quota.Name, quota.Spec.Hard, used, add); err != nil {
			return nil, quotaRefusal(a, err)
		}
		quota.Status.Hard = quota.Spec.Hard
		quota.Status.Used = registry.ChargeQuota(quota.Spec.Hard, quota.Status.Used, used, add)
		sw, err := q.quotas.SideWrite(quota)
		if err != nil {
			return nil, err
		}
		charges = append(charges, sw)
	}
	return charges, nil
}

func quotaRefusal(a rest.Attributes, err error) error {
	return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
		fmt.Sprintf("%s %q is forbidden: %v", a.Resource.Name, a.Object.GetObjectMeta().Name, err))
}

// hasQuota reports whether namespace ns has (or may have) a quota: true
// for a namespace whose quotas were written through this server or that
// the synced cache has quotas for. Otherwise it returns false and the
// condition the create must be made on: that no quota of ns was created or
// changed after the cache's revision (read before the cache is looked at),
// checked in the create's own transaction, so a quota written through
// another apiserver a moment ago, which this server's cache has not seen
// yet, already holds (Kubernetes' quota admission reads quotas live when
// its cache has none; this costs no read). Before the cache has synced,
// the quotas are read from the store, and the condition is taken at the
// revision of that read.
func (q *resourceQuota) hasQuota(ctx context.Context, ns string) (bool, store.SideWrite, error) {
	none := store.SideWrite{Key: q.quotas.Key(ns, ""), CheckOnly: true, Prefix: true}
	if _, ok := q.written.Load(ns); ok {
		return true, none, nil
	}
	if q.cache.HasSynced() {
		none.ModRevision = q.cache.Revision()
		if in, err := q.cache.ByIndex(byNamespace, ns); err == nil && len(in) > 0 {
			return true, none, nil
		}
		return false, none, nil
	}
	l, err := q.quotas.List(ctx, ns, store.ListOptions{Limit: 1})
	if err != nil {
		return false, none, err
	}
	none.ModRevision = l.Revision
	return len(l.Items) > 0, none, nil
}
