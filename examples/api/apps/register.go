package apps

import "github.com/setpoint-dev/setpoint/store"

// The apps/v1 resources the example apiserver serves, as Kubernetes names
// them (plural, apiVersion, kind, scope); see api.PodResource.
var (
	// ReplicaSetResource: replicasets, apps/v1.
	ReplicaSetResource = store.Resource{Name: "replicasets", APIVersion: "apps/v1", Kind: "ReplicaSet", Namespaced: true}
	// DeploymentResource: deployments, apps/v1.
	DeploymentResource = store.Resource{Name: "deployments", APIVersion: "apps/v1", Kind: "Deployment", Namespaced: true}
	// StatefulSetResource: statefulsets, apps/v1.
	StatefulSetResource = store.Resource{Name: "statefulsets", APIVersion: "apps/v1", Kind: "StatefulSet", Namespaced: true}
	// DaemonSetResource: daemonsets, apps/v1.
	DaemonSetResource = store.Resource{Name: "daemonsets", APIVersion: "apps/v1", Kind: "DaemonSet", Namespaced: true}
	// ControllerRevisionResource: controllerrevisions, apps/v1.
	ControllerRevisionResource = store.Resource{Name: "controllerrevisions", APIVersion: "apps/v1", Kind: "ControllerRevision", Namespaced: true}
)
