package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// rbacParts are the server's RBAC pieces: the informer caches the
// authorizer reads, the authorizer, and the aggregation controller, which
// runs in the apiserver (not the controller-manager) so that admin, edit
// and view are complete as soon as the server is ready.
type rbacParts struct {
	src        *authz.InformerSource
	authorizer *authz.RBAC
	aggregator *authz.Aggregator
}

func newRBACParts(rs *resources, log *slog.Logger) (*rbacParts, error) {
	src, err := authz.NewInformerSource(rs.roles.st, rs.clusterRoles.st, rs.roleBindings.st, rs.clusterRoleBindings.st, log)
	if err != nil {
		return nil, err
	}
	crs := rs.clusterRoles.st
	agg, err := authz.NewAggregator(src.ClusterRoles(), func(ctx context.Context, name string, rules []rbac.PolicyRule) error {
		_, err := crs.GuaranteedUpdate(ctx, "", name, func(cr *rbac.ClusterRole) (*rbac.ClusterRole, error) {
			cr.Rules = rules
			return cr, nil
		})
		return err
	}, log)
	if err != nil {
		return nil, err
	}
	return &rbacParts{src: src, authorizer: authz.NewRBAC(src), aggregator: agg}, nil
}

// ensureBootstrapPolicy creates the bootstrap cluster roles and bindings
// that are missing and repairs the others (authz.ReconcileClusterRole),
// then fills the aggregated roles once, so that the server starts with a
// complete policy; the aggregator keeps them up to date afterwards.
func ensureBootstrapPolicy(ctx context.Context, rs *resources, log *slog.Logger) error {
	for _, want := range authz.BootstrapClusterRoles() {
		if err := ensureObject(ctx, rs.clusterRoles.st, want, func(have *rbac.ClusterRole) (*rbac.ClusterRole, bool, error) {
			out, changed := authz.ReconcileClusterRole(have, want)
			return out, changed, nil
		}); err != nil {
			return err
		}
	}
	for _, want := range authz.BootstrapClusterRoleBindings() {
		if err := ensureObject(ctx, rs.clusterRoleBindings.st, want, func(have *rbac.ClusterRoleBinding) (*rbac.ClusterRoleBinding, bool, error) {
			return authz.ReconcileClusterRoleBinding(have, want)
		}); err != nil {
			if !errors.Is(err, authz.ErrRoleRefChanged) {
				return err
			}
			log.Warn("apiserver: bootstrap binding left as it is", "err", err)
		}
	}
	// Aggregate until nothing changes (aggregated roles feed others).
	for range 10 {
		l, err := rs.clusterRoles.st.List(ctx, "", store.ListOptions{})
		if err != nil {
			return fmt.Errorf("aggregating cluster roles: %w", err)
		}
		slices.SortFunc(l.Items, func(a, b *rbac.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
		changed := false
		for _, cr := range l.Items {
			if cr.AggregationRule == nil {
				continue
			}
			rules := authz.AggregateRules(cr, l.Items)
			if slices.EqualFunc(rules, cr.Rules, func(a, b rbac.PolicyRule) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				continue
			}
			cr.Rules = rules
			if _, err := rs.clusterRoles.st.Update(ctx, cr); err != nil {
				return fmt.Errorf("aggregating cluster role %s: %w", cr.Name, err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return nil
}

// ensureObject creates want, or repairs the existing object with fix.
func ensureObject[T store.Object](ctx context.Context, st *store.Store[T], want T, fix func(have T) (T, bool, error)) error {
	_, err := st.Create(ctx, want)
	if err == nil || !errors.Is(err, store.ErrAlreadyExists) {
		return err
	}
	m := want.GetObjectMeta()
	// An unchanged result writes nothing (GuaranteedUpdate's rule).
	_, err = st.GuaranteedUpdate(ctx, m.Namespace, m.Name, func(have T) (T, error) {
		out, _, err := fix(have)
		return out, err
	})
	if err != nil {
		return fmt.Errorf("bootstrap policy: %s %s: %w", st.Resource().Kind, m.Name, err)
	}
	return nil
}

// escalationCheck is the admission step that refuses roles and bindings
// granting more than their author holds, as Kubernetes' RBAC storage
// does: a role's rules must be held by the user (in the role's namespace)
// unless the user may "escalate" roles (or clusterroles); a binding's
// role must be held unless the user may "bind" it. An aggregated cluster
// role may gather anything, so it needs every permission or "escalate".
// Members of system:masters are never refused.
type escalationCheck struct {
	rbac *authz.RBAC
	// authorize is the server's authorizer (rules file, Node, RBAC).
	authorize func(a *authz.Attributes) (authz.Decision, string)
	// roles and clusterRoles are read live for a binding's roleRef, as
	// Kubernetes reads it through the registry: a role written a moment
	// ago (or changed since the cache saw it) is what a binding grants.
	roles        *store.Store[*rbac.Role]
	clusterRoles *store.Store[*rbac.ClusterRole]
}

var _ rest.ValidatingAdmission = (*escalationCheck)(nil)

// Name implements rest.AdmissionPlugin.
func (e *escalationCheck) Name() string { return "RBACEscalation" }

// Validate implements rest.ValidatingAdmission.
func (e *escalationCheck) Validate(ctx context.Context, a rest.Attributes, write func(context.Context) error) error {
	if a.Verb == "delete" || a.Resource.APIVersion != "rbac.authorization.k8s.io/v1" || a.Subresource != "" {
		return write(ctx)
	}
	u := UserFrom(ctx)
	if u == nil || slices.Contains(u.Groups, "system:masters") {
		return write(ctx)
	}
	may := func(verb, resource, ns, name string) bool {
		d, _ := e.authorize(&authz.Attributes{User: *u, Verb: verb, ResourceRequest: true, APIGroup: rbac.GroupName,
			Resource: resource, Namespace: ns, Name: name})
		return d == authz.Allow
	}
	var err error
	switch o := a.Object.(type) {
	case *rbac.Role:
		if !may("escalate", "roles", o.Namespace, o.Name) {
			err = e.rbac.ConfirmNoEscalation(u, o.Namespace, o.Rules)
		}
	case *rbac.ClusterRole:
		if !may("escalate", "clusterroles", "", o.Name) {
			err = e.rbac.ConfirmNoEscalation(u, "", o.Rules)
			if err == nil && o.AggregationRule != nil {
				err = e.rbac.ConfirmNoEscalation(u, "", []rbac.PolicyRule{
					{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
					{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}})
			}
		}
	case *rbac.RoleBinding:
		err = e.checkBind(ctx, u, o.RoleRef, o.Namespace, may)
	case *rbac.ClusterRoleBinding:
		err = e.checkBind(ctx, u, o.RoleRef, "", may)
	}
	if err != nil {
		m := a.Object.GetObjectMeta()
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("%s.%s %q is forbidden: %v", a.Resource.Name, rbac.GroupName, m.Name, err))
	}
	return write(ctx)
}

func (e *escalationCheck) checkBind(ctx context.Context, u *User, ref rbac.RoleRef, ns string, may func(verb, resource, ns, name string) bool) error {
	resource := "clusterroles"
	if ref.Kind == "Role" {
		resource = "roles"
	}
	if may("bind", resource, ns, ref.Name) {
		return nil
	}
	var rules []rbac.PolicyRule
	var err error
	if ref.Kind == "Role" {
		var r *rbac.Role
		if r, err = e.roles.Get(ctx, ns, ref.Name); err == nil {
			rules = r.Rules
		}
	} else {
		var cr *rbac.ClusterRole
		if cr, err = e.clusterRoles.Get(ctx, "", ref.Name); err == nil {
			rules = cr.Rules
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s.%s %q not found", resource, rbac.GroupName, ref.Name)
	}
	if err != nil {
		return err
	}
	return e.rbac.ConfirmNoEscalation(u, ns, rules)
}

// rbacCachesAt waits until the RBAC caches reflect store revision rev
// (tests: a binding just written is in force).
func (s *Server) rbacCachesAt(rev int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.rbac.src.WaitForRevision(ctx, rev)
}

// podGraphAt waits until the Node authorizer's pod cache reflects store
// revision rev (tests).
func (s *Server) podGraphAt(rev int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.pods.inf.WaitForRevision(ctx, rev)
}
