package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// admit is the admission chain every resource runs after defaulting and
// validation: namespace lifecycle, then ResourceQuota for pods.
func (s *Server) admit(ctx context.Context, a rest.Attributes) error {
	if a.Resource.Name == "resourcequotas" && (a.Verb == "create" || a.Verb == "update" || a.Verb == "patch") {
		// enforce it at once, before the quota cache has seen it
		s.quotaNS.Store(a.Namespace, struct{}{})
	}
	if a.Verb == "create" && a.Resource.Namespaced && a.Subresource == "" {
		if err := s.admitNamespace(ctx, a.Namespace, a.Resource, a.Object); err != nil {
			return err
		}
	}
	if a.Verb == "create" && a.Resource.Name == "pods" && a.Subresource == "" {
		if err := s.admitQuota(ctx, a.Object.(*api.Pod)); err != nil {
			return err
		}
	}
	return nil
}

// admitNamespace: nothing is created in a missing or terminating namespace.
// The namespace is looked up in the namespace cache first; a miss (for
// example a namespace created a moment ago) is read from the store.
func (s *Server) admitNamespace(ctx context.Context, ns string, r store.Resource, obj store.Object) error {
	n, ok := s.nsCache.get(ns)
	var err error
	if _, deleted := s.deletedNS.Load(ns); !ok || deleted {
		// not cached yet, or deleted through this server (the cache may
		// still show it): read it from the store
		n, err = s.namespaces.Get(ctx, "", ns)
	}
	if errors.Is(err, store.ErrNotFound) {
		st := watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf("namespaces %q not found", ns))
		st.Details = &watch.StatusDetails{Name: ns, Kind: "namespaces"}
		return &watch.StatusError{Status: *st}
	}
	if err != nil {
		return err
	}
	if n.Status.Phase == api.NamespaceTerminating || n.DeletionTimestamp != nil {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf(
			"%s %q is forbidden: unable to create new content in namespace %s because it is being terminated",
			r.Name, obj.GetObjectMeta().Name, ns))
	}
	return nil
}

// admitQuota checks a new pod against every ResourceQuota of its
// namespace. Pod creates in a namespace with a quota are serialized (see
// podCreate), so two creates cannot both take the last unit of a quota.
func (s *Server) admitQuota(ctx context.Context, p *api.Pod) error {
	if has, err := s.hasQuota(ctx, p.Namespace); err != nil || !has {
		return err
	}
	quotas, err := s.quotas.List(ctx, p.Namespace, store.ListOptions{})
	if err != nil || len(quotas.Items) == 0 {
		return err
	}
	pods, err := s.pods.List(ctx, p.Namespace, store.ListOptions{})
	if err != nil {
		return err
	}
	used := api.ResourceList{}
	for _, q := range pods.Items {
		if q.Status.Phase == api.PodSucceeded || q.Status.Phase == api.PodFailed {
			continue
		}
		used = used.Add(api.PodUsage(q))
	}
	add := api.PodUsage(p)
	for _, q := range quotas.Items {
		if err := api.CheckQuota(q.Name, q.Spec.Hard, used, add); err != nil {
			return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, fmt.Sprintf("pods %q is forbidden: %v", p.Name, err))
		}
	}
	return nil
}

// hasQuota reports whether namespace ns has (or may have) a
// ResourceQuota: true for a namespace whose quotas were written through
// this server, else what the quota cache says once it has synced (a quota
// written by another client is enforced from the moment the cache sees it,
// milliseconds later), else what the store says.
func (s *Server) hasQuota(ctx context.Context, ns string) (bool, error) {
	if _, ok := s.quotaNS.Load(ns); ok {
		return true, nil
	}
	if found, ok := s.quotaCache.any(func(q *api.ResourceQuota) bool { return q.Namespace == ns }); ok {
		return found, nil
	}
	res, err := s.backend.Range(ctx, s.quotas.Key(ns, ""), store.RangeOptions{Limit: 1})
	if err != nil {
		return false, err
	}
	return len(res.KVs) > 0, nil
}

// prepareNamespaceDelete checks a namespace delete's preconditions, then
// deletes the namespace's content (deleteNamespace), and returns the body
// to pass on to the delete itself: the UID precondition only, since
// marking the namespace Terminating changed its resourceVersion. A failed
// precondition or a missing namespace changes nothing.
func (s *Server) prepareNamespaceDelete(w http.ResponseWriter, r *http.Request, name string) ([]byte, error) {
	var opts struct {
		Preconditions *struct {
			UID             *string `json:"uid"`
			ResourceVersion *string `json:"resourceVersion"`
		} `json:"preconditions"`
	}
	if r.Body != nil {
		limit := s.cfg.MaxBodyBytes
		if limit == 0 {
			limit = rest.DefaultMaxBodyBytes
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			return nil, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge, "request body too large or unreadable: "+err.Error())
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, &opts); err != nil {
				return nil, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "decoding DeleteOptions: "+err.Error())
			}
		}
	}
	ns, err := s.namespaces.Get(r.Context(), "", name)
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
	if err := s.deleteNamespace(r.Context(), name); err != nil {
		return nil, err
	}
	return out, nil
}

// deleteNamespace marks the namespace Terminating (so nothing new is
// created in it), deletes everything in it, and then lets the namespace
// delete proceed.
func (s *Server) deleteNamespace(ctx context.Context, name string) error {
	s.deletedNS.Store(name, struct{}{})
	_, err := s.namespaces.GuaranteedUpdate(ctx, "", name, func(n *api.Namespace) (*api.Namespace, error) {
		n.Status.Phase = api.NamespaceTerminating
		return n, nil
	})
	if err != nil {
		return err
	}
	for _, r := range s.resources {
		if err := r.deleteIn(ctx, name); err != nil {
			return fmt.Errorf("deleting the content of namespace %s: %w", name, err)
		}
	}
	return nil
}
