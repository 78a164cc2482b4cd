package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
// not exist or is being deleted, and deletes a namespace's content before
// the namespace itself (deleteHandler).
type namespaceLifecycle struct {
	namespaces *store.Store[*api.Namespace]
	cache      *informer.Informer[*api.Namespace]
	// deleteContent deletes everything in a namespace.
	deleteContent func(ctx context.Context, ns string) error
	// deleting holds the names of namespaces deleted through this server,
	// which the cache may still show as they were.
	deleting sync.Map
}

var _ rest.ValidatingAdmission = (*namespaceLifecycle)(nil)

func newNamespaceLifecycle(namespaces *store.Store[*api.Namespace], deleteContent func(context.Context, string) error, log *slog.Logger) (*namespaceLifecycle, error) {
	inf, err := informer.New[*api.Namespace](namespaces, informer.Config[*api.Namespace]{Name: "admission-namespaces", Logger: log})
	if err != nil {
		return nil, err
	}
	return &namespaceLifecycle{namespaces: namespaces, cache: inf, deleteContent: deleteContent}, nil
}

// Name implements rest.AdmissionPlugin.
func (l *namespaceLifecycle) Name() string { return "NamespaceLifecycle" }

// Run keeps the namespace cache until ctx ends.
func (l *namespaceLifecycle) Run(ctx context.Context) error { return l.cache.Run(ctx) }

// Validate refuses creates in a missing namespace (404) or a terminating
// one (403). The namespace is looked up in the cache first; a miss (a
// namespace created a moment ago, or the cache not synced yet), or a
// namespace deleted through this server, is read from the store.
func (l *namespaceLifecycle) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if a.Verb != "create" || !a.Resource.Namespaced || a.Subresource != "" {
		return write(ctx)
	}
	ns := a.Namespace
	n, ok := l.cache.Get("", ns)
	if _, deleted := l.deleting.Load(ns); !ok || deleted {
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
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf(
			"%s %q is forbidden: unable to create new content in namespace %s because it is being terminated",
			a.Resource.Name, a.Object.GetObjectMeta().Name, ns))
	}
	return write(ctx)
}

// deleteHandler serves DELETE of a namespace: it checks the request's
// preconditions, marks the namespace Terminating (so nothing new is
// created in it), deletes its content, and then passes the delete on to
// next with the UID precondition only (marking it Terminating changed its
// resourceVersion). A failed precondition or a missing namespace changes
// nothing.
func (l *namespaceLifecycle) deleteHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := infoOf(r)
		body, err := l.prepareDelete(r, info.Name)
		if err != nil {
			writeStatus(w, rest.ErrorStatus(err, "Namespace", "", info.Name))
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func (l *namespaceLifecycle) prepareDelete(r *http.Request, name string) ([]byte, error) {
	var opts struct {
		Preconditions *struct {
			UID             *string `json:"uid"`
			ResourceVersion *string `json:"resourceVersion"`
		} `json:"preconditions"`
	}
	if r.Body != nil {
		data, err := io.ReadAll(r.Body) // the limits filter bounds it
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge, "request body too large")
			}
			return nil, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "reading body: "+err.Error())
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, &opts); err != nil {
				return nil, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "decoding DeleteOptions: "+err.Error())
			}
		}
	}
	ctx := r.Context()
	ns, err := l.namespaces.Get(ctx, "", name)
	if err != nil {
		return nil, err
	}
	out := []byte("{}")
	if p := opts.Preconditions; p != nil {
		if p.UID != nil && *p.UID != ns.UID {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf("namespace %s: precondition failed: UID %s, not %s", name, ns.UID, *p.UID))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != ns.ResourceVersion {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict, fmt.Sprintf("namespace %s: precondition failed: resourceVersion %s, not %s", name, ns.ResourceVersion, *p.ResourceVersion))
		}
		out, _ = json.Marshal(map[string]any{"preconditions": map[string]string{"uid": ns.UID}})
	}
	l.deleting.Store(name, struct{}{})
	if _, err := l.namespaces.GuaranteedUpdate(ctx, "", name, func(n *api.Namespace) (*api.Namespace, error) {
		n.Status.Phase = api.NamespaceTerminating
		return n, nil
	}); err != nil {
		return nil, err
	}
	if err := l.deleteContent(ctx, name); err != nil {
		return nil, err
	}
	return out, nil
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
