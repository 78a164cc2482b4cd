package api

import "github.com/setpoint-dev/setpoint/store"

// The core (v1) resources the example apiserver serves these types as:
// plural name, apiVersion, kind and scope, as Kubernetes names them.
// Clients pass them to store.New or rest.NewClient; the apiserver's
// registry (examples/apiserver/registry) adds each one's rules. The other
// groups' resources are in their packages (apps.DeploymentResource, ...).
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
	// EventResource: events, v1 (the same objects as events.k8s.io/v1
	// events, in the core shape).
	EventResource = store.Resource{Name: "events", APIVersion: "v1", Kind: "Event", Namespaced: true}
	// ResourceQuotaResource: resourcequotas, v1.
	ResourceQuotaResource = store.Resource{Name: "resourcequotas", APIVersion: "v1", Kind: "ResourceQuota", Namespaced: true}
	// LimitRangeResource: limitranges, v1.
	LimitRangeResource = store.Resource{Name: "limitranges", APIVersion: "v1", Kind: "LimitRange", Namespaced: true}
	// ConfigMapResource: configmaps, v1.
	ConfigMapResource = store.Resource{Name: "configmaps", APIVersion: "v1", Kind: "ConfigMap", Namespaced: true}
	// SecretResource: secrets, v1.
	SecretResource = store.Resource{Name: "secrets", APIVersion: "v1", Kind: "Secret", Namespaced: true}
	// ServiceAccountResource: serviceaccounts, v1.
	ServiceAccountResource = store.Resource{Name: "serviceaccounts", APIVersion: "v1", Kind: "ServiceAccount", Namespaced: true}
	// ReplicationControllerResource: replicationcontrollers, v1.
	ReplicationControllerResource = store.Resource{Name: "replicationcontrollers", APIVersion: "v1", Kind: "ReplicationController", Namespaced: true}
	// PodTemplateResource: podtemplates, v1.
	PodTemplateResource = store.Resource{Name: "podtemplates", APIVersion: "v1", Kind: "PodTemplate", Namespaced: true}
	// PersistentVolumeResource: persistentvolumes, v1, cluster-scoped.
	PersistentVolumeResource = store.Resource{Name: "persistentvolumes", APIVersion: "v1", Kind: "PersistentVolume"}
	// PersistentVolumeClaimResource: persistentvolumeclaims, v1.
	PersistentVolumeClaimResource = store.Resource{Name: "persistentvolumeclaims", APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespaced: true}
)
