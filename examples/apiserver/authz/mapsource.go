package authz

import "github.com/setpoint-dev/setpoint/examples/api/rbac"

// MapSource is a Source over fixed objects (tests, benchmarks). Build it
// with NewMapSource; it is read-only afterwards and safe for concurrent
// use.
type MapSource struct {
	roles        map[string]*rbac.Role
	clusterRoles map[string]*rbac.ClusterRole
	rbs          map[string][]*rbac.RoleBinding
	crbs         map[string][]*rbac.ClusterRoleBinding
}

var _ Source = (*MapSource)(nil)

// NewMapSource indexes the given objects.
func NewMapSource(roles []*rbac.Role, clusterRoles []*rbac.ClusterRole, rbs []*rbac.RoleBinding, crbs []*rbac.ClusterRoleBinding) *MapSource {
	m := &MapSource{roles: map[string]*rbac.Role{}, clusterRoles: map[string]*rbac.ClusterRole{},
		rbs: map[string][]*rbac.RoleBinding{}, crbs: map[string][]*rbac.ClusterRoleBinding{}}
	for _, r := range roles {
		m.roles[r.Namespace+"/"+r.Name] = r
	}
	for _, r := range clusterRoles {
		m.clusterRoles[r.Name] = r
	}
	for _, b := range rbs {
		for _, k := range SubjectKeys(b.Subjects, b.Namespace) {
			m.rbs[b.Namespace+"|"+k] = append(m.rbs[b.Namespace+"|"+k], b)
		}
	}
	for _, b := range crbs {
		for _, k := range SubjectKeys(b.Subjects, "") {
			m.crbs[k] = append(m.crbs[k], b)
		}
	}
	return m
}

// Role implements Source.
func (m *MapSource) Role(ns, name string) (*rbac.Role, bool) {
	r, ok := m.roles[ns+"/"+name]
	return r, ok
}

// ClusterRole implements Source.
func (m *MapSource) ClusterRole(name string) (*rbac.ClusterRole, bool) {
	r, ok := m.clusterRoles[name]
	return r, ok
}

// RoleBindings implements Source.
func (m *MapSource) RoleBindings(ns, subject string) []*rbac.RoleBinding {
	return m.rbs[ns+"|"+subject]
}

// ClusterRoleBindings implements Source.
func (m *MapSource) ClusterRoleBindings(subject string) []*rbac.ClusterRoleBinding {
	return m.crbs[subject]
}
