package api

import "github.com/setpoint-dev/setpoint/store"

// The resources the example apiserver serves these types as: plural name,
// apiVersion, kind and scope, as Kubernetes names them. Clients pass them
// to store.New or rest.NewClient; the apiserver's registry
// (examples/apiserver/registry) adds each one's rules.
var (
	// NamespaceResource: namespaces, v1, cluster-scoped.
	NamespaceResource = store.Resource{Name: "namespaces", APIVersion: "v1", Kind: "Namespace"}
	// NodeResource: nodes, v1, cluster-scoped.
	NodeResource = store.Resource{Name: "nodes", APIVersion: "v1", Kind: "Node"}
	// PodResource: pods, v1.
	PodResource = store.Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true}
	// ServiceResource: services, v1.
	ServiceResource = store.Resource{Name: "services", APIVersion: "v1", Kind: "Service", Namespaced: true}
	// EndpointsResource: endpoints, v1.
	EndpointsResource = store.Resource{Name: "endpoints", APIVersion: "v1", Kind: "Endpoints", Namespaced: true}
	// EventResource: events, v1.
	EventResource = store.Resource{Name: "events", APIVersion: "v1", Kind: "Event", Namespaced: true}
	// ResourceQuotaResource: resourcequotas, v1.
	ResourceQuotaResource = store.Resource{Name: "resourcequotas", APIVersion: "v1", Kind: "ResourceQuota", Namespaced: true}
	// LeaseResource: leases, coordination.k8s.io/v1.
	LeaseResource = store.Resource{Name: "leases", APIVersion: "coordination.k8s.io/v1", Kind: "Lease", Namespaced: true}
	// ReplicaSetResource: replicasets, apps/v1.
	ReplicaSetResource = store.Resource{Name: "replicasets", APIVersion: "apps/v1", Kind: "ReplicaSet", Namespaced: true}
	// DeploymentResource: deployments, apps/v1.
	DeploymentResource = store.Resource{Name: "deployments", APIVersion: "apps/v1", Kind: "Deployment", Namespaced: true}
	// StatefulSetResource: statefulsets, apps/v1.
	StatefulSetResource = store.Resource{Name: "statefulsets", APIVersion: "apps/v1", Kind: "StatefulSet", Namespaced: true}
	// DaemonSetResource: daemonsets, apps/v1.
	DaemonSetResource = store.Resource{Name: "daemonsets", APIVersion: "apps/v1", Kind: "DaemonSet", Namespaced: true}
)
