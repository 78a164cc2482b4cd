package rbac

import "github.com/setpoint-dev/setpoint/store"

// The rbac.authorization.k8s.io/v1 resources the example apiserver serves;
// see api.PodResource.
var (
	// RoleResource: roles.
	RoleResource = store.Resource{Name: "roles", APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role", Namespaced: true}
	// RoleBindingResource: rolebindings.
	RoleBindingResource = store.Resource{Name: "rolebindings", APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding", Namespaced: true}
	// ClusterRoleResource: clusterroles, cluster-scoped.
	ClusterRoleResource = store.Resource{Name: "clusterroles", APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}
	// ClusterRoleBindingResource: clusterrolebindings, cluster-scoped.
	ClusterRoleBindingResource = store.Resource{Name: "clusterrolebindings", APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}
)
