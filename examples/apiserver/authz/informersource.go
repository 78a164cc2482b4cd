package authz

import (
	"context"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/informer"
)

const subjectIndex = "subject"

// InformerSource is a Source over informer caches of the four RBAC kinds,
// with the bindings indexed by subject. Run it, and wait for WaitForSync,
// before authorizing with it.
type InformerSource struct {
	roles        *informer.Informer[*rbac.Role]
	clusterRoles *informer.Informer[*rbac.ClusterRole]
	rbs          *informer.Informer[*rbac.RoleBinding]
	crbs         *informer.Informer[*rbac.ClusterRoleBinding]
}

var _ Source = (*InformerSource)(nil)

// NewInformerSource builds the informers over the four sources (each a
// *store.Store or a rest client).
func NewInformerSource(roles informer.ListerWatcher[*rbac.Role], clusterRoles informer.ListerWatcher[*rbac.ClusterRole],
	rbs informer.ListerWatcher[*rbac.RoleBinding], crbs informer.ListerWatcher[*rbac.ClusterRoleBinding], log *slog.Logger) (*InformerSource, error) {
	s := &InformerSource{}
	var err error
	if s.roles, err = informer.New(roles, informer.Config[*rbac.Role]{Name: "rbac-roles", Logger: log}); err != nil {
		return nil, err
	}
	if s.clusterRoles, err = informer.New(clusterRoles, informer.Config[*rbac.ClusterRole]{Name: "rbac-clusterroles", Logger: log}); err != nil {
		return nil, err
	}
	if s.rbs, err = informer.New(rbs, informer.Config[*rbac.RoleBinding]{Name: "rbac-rolebindings", Logger: log,
		Indexers: map[string]informer.IndexFunc[*rbac.RoleBinding]{subjectIndex: func(b *rbac.RoleBinding) []string {
			keys := SubjectKeys(b.Subjects, b.Namespace)
			for i := range keys {
				keys[i] = b.Namespace + "|" + keys[i]
			}
			return keys
		}}}); err != nil {
		return nil, err
	}
	if s.crbs, err = informer.New(crbs, informer.Config[*rbac.ClusterRoleBinding]{Name: "rbac-clusterrolebindings", Logger: log,
		Indexers: map[string]informer.IndexFunc[*rbac.ClusterRoleBinding]{subjectIndex: func(b *rbac.ClusterRoleBinding) []string {
			return SubjectKeys(b.Subjects, "")
		}}}); err != nil {
		return nil, err
	}
	return s, nil
}

// ClusterRoles returns the cluster role informer (the aggregation
// controller watches it).
func (s *InformerSource) ClusterRoles() *informer.Informer[*rbac.ClusterRole] { return s.clusterRoles }

// Run runs the informers until ctx ends or one fails.
func (s *InformerSource) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.roles.Run(gctx) })
	g.Go(func() error { return s.clusterRoles.Run(gctx) })
	g.Go(func() error { return s.rbs.Run(gctx) })
	g.Go(func() error { return s.crbs.Run(gctx) })
	return g.Wait()
}

// WaitForSync waits until every informer has synced, or ctx ends.
func (s *InformerSource) WaitForSync(ctx context.Context) error {
	for _, w := range []func(context.Context) error{s.roles.WaitForSync, s.clusterRoles.WaitForSync, s.rbs.WaitForSync, s.crbs.WaitForSync} {
		if err := w(ctx); err != nil {
			return err
		}
	}
	return nil
}

// WaitForRevision waits until every cache reflects at least store
// revision rev (so a write the caller made is visible), or ctx ends.
func (s *InformerSource) WaitForRevision(ctx context.Context, rev int64) error {
	for _, w := range []func(context.Context, int64) error{s.roles.WaitForRevision, s.clusterRoles.WaitForRevision, s.rbs.WaitForRevision, s.crbs.WaitForRevision} {
		if err := w(ctx, rev); err != nil {
			return err
		}
	}
	return nil
}

// Role implements Source.
func (s *InformerSource) Role(ns, name string) (*rbac.Role, bool) { return s.roles.Get(ns, name) }

// ClusterRole implements Source.
func (s *InformerSource) ClusterRole(name string) (*rbac.ClusterRole, bool) {
	return s.clusterRoles.Get("", name)
}

// RoleBindings implements Source.
func (s *InformerSource) RoleBindings(ns, subject string) []*rbac.RoleBinding {
	out, _ := s.rbs.ByIndex(subjectIndex, ns+"|"+subject)
	return out
}

// ClusterRoleBindings implements Source.
func (s *InformerSource) ClusterRoleBindings(subject string) []*rbac.ClusterRoleBinding {
	out, _ := s.crbs.ByIndex(subjectIndex, subject)
	return out
}
