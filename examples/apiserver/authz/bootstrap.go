package authz

import (
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/store"
)

// Labels and annotations of the bootstrap policy, as Kubernetes names them.
const (
	// BootstrappingLabel marks every object of the bootstrap policy
	// (value "rbac-defaults").
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	// AutoupdateAnnotation on a bootstrap object: "false" stops the
	// server from repairing it at start.
	AutoupdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"
	// AggregateToAdmin, AggregateToEdit and AggregateToView label cluster
	// roles whose rules the admin, edit and view roles collect.
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
)

// rule builds a policy rule: verbs, then API groups, then resources.
func rule(verbs []string, groups []string, resources ...string) rbac.PolicyRule {
	return rbac.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func urls(verbs []string, paths ...string) rbac.PolicyRule {
	return rbac.PolicyRule{Verbs: verbs, NonResourceURLs: paths}
}

func named(r rbac.PolicyRule, names ...string) rbac.PolicyRule {
	r.ResourceNames = names
	return r
}

func v(s ...string) []string { return s }

var (
	read      = v("get", "list", "watch")
	write     = v("create", "delete", "deletecollection", "patch", "update")
	readWrite = v("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
	eventsW   = v("create", "patch", "update")
	core      = v("")
)

func meta(name string, labels map[string]string) store.ObjectMeta {
	l := map[string]string{BootstrappingLabel: "rbac-defaults"}
	for k, v := range labels {
		l[k] = v
	}
	return store.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{AutoupdateAnnotation: "true"}}
}

func clusterRole(name string, labels map[string]string, rules ...rbac.PolicyRule) *rbac.ClusterRole {
	return &rbac.ClusterRole{TypeMeta: store.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: meta(name, labels), Rules: rules}
}

func aggregated(name, selectLabel string, labels map[string]string) *rbac.ClusterRole {
	cr := clusterRole(name, labels)
	cr.AggregationRule = &rbac.AggregationRule{ClusterRoleSelectors: []api.LabelSelector{{MatchLabels: map[string]string{selectLabel: "true"}}}}
	return cr
}

// Subjects of bootstrap bindings.
func users(names ...string) []rbac.Subject {
	out := make([]rbac.Subject, len(names))
	for i, n := range names {
		out[i] = rbac.Subject{Kind: rbac.UserKind, APIGroup: rbac.GroupName, Name: n}
	}
	return out
}

func groups(names ...string) []rbac.Subject {
	out := make([]rbac.Subject, len(names))
	for i, n := range names {
		out[i] = rbac.Subject{Kind: rbac.GroupKind, APIGroup: rbac.GroupName, Name: n}
	}
	return out
}

func crb(name, role string, subjects []rbac.Subject) *rbac.ClusterRoleBinding {
	return &rbac.ClusterRoleBinding{TypeMeta: store.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(name, nil), Subjects: subjects,
		RoleRef: rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "ClusterRole", Name: role}}
}

// NodeRules are the permissions of the system:node role, which the Node
// authorizer grants to kubelets beyond the objects of their own pods.
func NodeRules() []rbac.PolicyRule {
	return []rbac.PolicyRule{
		rule(v("create"), v("authentication.k8s.io"), "tokenreviews"),
		rule(v("create"), v("authorization.k8s.io"), "subjectaccessreviews", "localsubjectaccessreviews"),
		rule(read, core, "services"),
		rule(v("create", "get", "list", "watch"), core, "nodes"),
		rule(v("patch", "update"), core, "nodes/status"),
		rule(v("delete", "patch", "update"), core, "nodes"),
		rule(eventsW, core, "events"),
		rule(eventsW, v("events.k8s.io"), "events"),
		rule(read, core, "pods"),
		rule(v("create", "delete"), core, "pods"),
		rule(v("patch", "update"), core, "pods/status"),
		rule(v("create"), core, "pods/eviction"),
		rule(v("get"), core, "configmaps", "secrets", "persistentvolumeclaims", "persistentvolumes"),
		rule(v("get", "update", "patch"), core, "persistentvolumeclaims/status"),
		rule(v("create"), core, "serviceaccounts/token"),
		rule(v("get"), v("storage.k8s.io"), "volumeattachments", "csidrivers"),
		rule(v("create", "get", "list", "watch"), v("certificates.k8s.io"), "certificatesigningrequests"),
		rule(v("create", "delete", "get", "patch", "update"), v("coordination.k8s.io"), "leases"),
		rule(read, v("node.k8s.io"), "runtimeclasses"),
		rule(read, v("discovery.k8s.io"), "endpointslices"),
	}
}

// BootstrapClusterRoles returns the cluster roles a new cluster starts
// with, named as Kubernetes names them. admin, edit and view are
// aggregated: their rules come from the system:aggregate-to-* roles (and
// any other role with the aggregate-to label), filled by the Aggregator.
func BootstrapClusterRoles() []*rbac.ClusterRole {
	discovery := v("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/")
	return []*rbac.ClusterRole{
		clusterRole("cluster-admin", nil, rule(v("*"), v("*"), "*"), urls(v("*"), "*")),
		aggregated("admin", AggregateToAdmin, nil),
		aggregated("edit", AggregateToEdit, map[string]string{AggregateToAdmin: "true"}),
		aggregated("view", AggregateToView, map[string]string{AggregateToEdit: "true"}),
		clusterRole("system:aggregate-to-admin", map[string]string{AggregateToAdmin: "true"},
			rule(v("create"), v("authorization.k8s.io"), "localsubjectaccessreviews"),
			rule(readWrite, v("rbac.authorization.k8s.io"), "rolebindings", "roles")),
		clusterRole("system:aggregate-to-edit", map[string]string{AggregateToEdit: "true"},
			rule(write, core, "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
			rule(v("create"), core, "pods/eviction"),
			rule(write, core, "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
				"secrets", "serviceaccounts", "services", "services/proxy", "endpoints"),
			rule(v("create"), core, "serviceaccounts/token"),
			rule(v("impersonate"), core, "serviceaccounts"),
			rule(read, core, "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"),
			rule(write, v("apps"), "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
				"replicasets/scale", "statefulsets", "statefulsets/scale"),
			rule(write, v("autoscaling"), "horizontalpodautoscalers"),
			rule(write, v("batch"), "cronjobs", "jobs"),
			rule(write, v("policy"), "poddisruptionbudgets"),
			rule(write, v("networking.k8s.io"), "ingresses", "networkpolicies"),
			rule(write, v("discovery.k8s.io"), "endpointslices"),
			rule(write, v("coordination.k8s.io"), "leases")),
		clusterRole("system:aggregate-to-view", map[string]string{AggregateToView: "true"},
			rule(read, core, "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
				"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
			rule(read, core, "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
				"replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),
			rule(read, core, "namespaces"),
			rule(read, v("apps"), "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
				"deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
				"statefulsets/scale", "statefulsets/status"),
			rule(read, v("autoscaling"), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
			rule(read, v("batch"), "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
			rule(read, v("policy"), "poddisruptionbudgets", "poddisruptionbudgets/status"),
			rule(read, v("networking.k8s.io"), "ingresses", "ingresses/status", "networkpolicies"),
			rule(read, v("discovery.k8s.io"), "endpointslices"),
			rule(read, v("events.k8s.io"), "events"),
			rule(read, v("coordination.k8s.io"), "leases")),
		clusterRole("system:basic-user", nil,
			rule(v("create"), v("authentication.k8s.io"), "selfsubjectreviews"),
			rule(v("create"), v("authorization.k8s.io"), "selfsubjectaccessreviews", "selfsubjectrulesreviews")),
		clusterRole("system:discovery", nil, urls(v("get"), discovery...)),
		clusterRole("system:public-info-viewer", nil, urls(v("get"), "/healthz", "/livez", "/readyz", "/version", "/version/")),
		clusterRole("system:monitoring", nil, urls(v("get"), "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*")),
		clusterRole("system:auth-delegator", nil,
			rule(v("create"), v("authentication.k8s.io"), "tokenreviews"),
			rule(v("create"), v("authorization.k8s.io"), "subjectaccessreviews")),
		clusterRole("system:service-account-issuer-discovery", nil,
			urls(v("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/")),
		clusterRole("system:kube-scheduler", nil,
			rule(eventsW, core, "events"),
			rule(eventsW, v("events.k8s.io"), "events"),
			rule(v("create"), v("coordination.k8s.io"), "leases"),
			named(rule(v("get", "update"), v("coordination.k8s.io"), "leases"), "kube-scheduler"),
			rule(v("create"), core, "endpoints"),
			named(rule(v("get", "update"), core, "endpoints"), "kube-scheduler"),
			rule(read, core, "nodes", "namespaces"),
			rule(v("delete", "get", "list", "watch"), core, "pods"),
			rule(v("create"), core, "bindings", "pods/binding"),
			rule(v("patch", "update"), core, "pods/status"),
			rule(read, core, "replicationcontrollers", "services", "persistentvolumeclaims", "persistentvolumes"),
			rule(read, v("apps"), "replicasets", "statefulsets"),
			rule(read, v("policy"), "poddisruptionbudgets"),
			rule(read, v("storage.k8s.io"), "storageclasses", "csinodes", "csidrivers", "csistoragecapacities"),
			rule(read, v("scheduling.k8s.io"), "priorityclasses"),
			rule(v("create"), v("authentication.k8s.io"), "tokenreviews"),
			rule(v("create"), v("authorization.k8s.io"), "subjectaccessreviews")),
		// Kubernetes' system:volume-scheduler (bound to the scheduler): the
		// VolumeBinding plugin binds claims to volumes. Ours also writes
		// their status phase (Bound), which Kubernetes leaves to the
		// persistent-volume binder, since no binder runs here.
		clusterRole("system:volume-scheduler", nil,
			rule(v("get", "list", "watch", "patch", "update"), core, "persistentvolumes", "persistentvolumeclaims"),
			rule(v("patch", "update"), core, "persistentvolumes/status", "persistentvolumeclaims/status"),
			rule(read, v("storage.k8s.io"), "storageclasses")),
		// Kubernetes' controller-manager runs each controller with its own
		// service account and role (system:controller:*); ours runs them
		// under one identity, so this role holds what all of them need.
		clusterRole("system:kube-controller-manager", nil,
			rule(eventsW, core, "events"),
			rule(eventsW, v("events.k8s.io"), "events"),
			rule(readWrite, v("coordination.k8s.io"), "leases"),
			rule(read, v("*"), "*"),
			rule(readWrite, core, "pods", "pods/status", "nodes", "nodes/status", "namespaces", "namespaces/finalize",
				"namespaces/status", "endpoints", "serviceaccounts", "serviceaccounts/token", "secrets", "configmaps",
				"replicationcontrollers", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status",
				"persistentvolumes", "persistentvolumes/status", "persistentvolumeclaims", "persistentvolumeclaims/status",
				"services", "services/status"),
			rule(v("create"), core, "pods/eviction", "pods/binding"),
			rule(readWrite, v("apps"), "*"),
			rule(readWrite, v("batch"), "*"),
			rule(readWrite, v("policy"), "*"),
			rule(readWrite, v("discovery.k8s.io"), "*"),
			rule(readWrite, v("certificates.k8s.io"), "certificatesigningrequests", "certificatesigningrequests/status", "certificatesigningrequests/approval"),
			named(rule(v("approve", "sign"), v("certificates.k8s.io"), "signers"), "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving"),
			rule(v("create"), v("authentication.k8s.io"), "tokenreviews"),
			rule(v("create"), v("authorization.k8s.io"), "subjectaccessreviews"),
			rule(v("delete", "deletecollection"), v("*"), "*")),
		clusterRole("system:node", nil, NodeRules()...),
		clusterRole("system:node-proxier", nil,
			rule(v("list", "watch"), core, "endpoints", "services"),
			rule(read, core, "nodes"),
			rule(eventsW, core, "events"),
			rule(eventsW, v("events.k8s.io"), "events"),
			rule(v("list", "watch"), v("discovery.k8s.io"), "endpointslices")),
		clusterRole("system:node-bootstrapper", nil,
			rule(v("create", "get", "list", "watch"), v("certificates.k8s.io"), "certificatesigningrequests")),
		clusterRole("system:kube-dns", nil,
			rule(v("list", "watch"), core, "endpoints", "services"),
			rule(v("list", "watch"), v("discovery.k8s.io"), "endpointslices")),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", nil,
			rule(v("create"), v("certificates.k8s.io"), "certificatesigningrequests/nodeclient")),
		clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", nil,
			rule(v("create"), v("certificates.k8s.io"), "certificatesigningrequests/selfnodeclient")),
		clusterRole("system:certificates.k8s.io:kube-apiserver-client-approver", nil,
			named(rule(v("approve"), v("certificates.k8s.io"), "signers"), "kubernetes.io/kube-apiserver-client")),
		clusterRole("system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", nil,
			named(rule(v("approve"), v("certificates.k8s.io"), "signers"), "kubernetes.io/kube-apiserver-client-kubelet")),
		clusterRole("system:certificates.k8s.io:kubelet-serving-approver", nil,
			named(rule(v("approve"), v("certificates.k8s.io"), "signers"), "kubernetes.io/kubelet-serving")),
		clusterRole("system:certificates.k8s.io:legacy-unknown-approver", nil,
			named(rule(v("approve"), v("certificates.k8s.io"), "signers"), "kubernetes.io/legacy-unknown")),
	}
}

// BootstrapClusterRoleBindings returns the cluster role bindings a new
// cluster starts with. system:node has no subjects, as in Kubernetes since
// 1.8: kubelets are authorized by the Node authorizer. The kubeadm:*
// bindings are the ones kubeadm adds so that nodes can join with bootstrap
// tokens and renew their client certificates.
func BootstrapClusterRoleBindings() []*rbac.ClusterRoleBinding {
	return []*rbac.ClusterRoleBinding{
		crb("cluster-admin", "cluster-admin", groups("system:masters")),
		crb("system:basic-user", "system:basic-user", groups("system:authenticated")),
		crb("system:discovery", "system:discovery", groups("system:authenticated")),
		crb("system:public-info-viewer", "system:public-info-viewer", groups("system:authenticated", "system:unauthenticated")),
		crb("system:monitoring", "system:monitoring", groups("system:monitoring")),
		crb("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", groups("system:serviceaccounts")),
		crb("system:kube-scheduler", "system:kube-scheduler", users("system:kube-scheduler")),
		crb("system:volume-scheduler", "system:volume-scheduler", users("system:kube-scheduler")),
		crb("system:kube-controller-manager", "system:kube-controller-manager", users("system:kube-controller-manager")),
		crb("system:node", "system:node", nil),
		crb("system:node-proxier", "system:node-proxier", users("system:kube-proxy")),
		crb("system:kube-dns", "system:kube-dns", []rbac.Subject{{Kind: rbac.ServiceAccountKind, Name: "kube-dns", Namespace: "kube-system"}}),
		crb("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", groups("system:bootstrappers")),
		crb("kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", groups("system:bootstrappers")),
		crb("kubeadm:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", groups("system:nodes")),
	}
}
