package api

import (
	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

// Namespace is a scope for names (core v1, cluster-scoped).
type Namespace struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             NamespaceSpec   `json:"spec,omitempty"`
	Status           NamespaceStatus `json:"status,omitempty"`
}

// NamespaceSpec holds the namespace's finalizers.
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespaceStatus is a namespace's phase and, while it is being deleted,
// the namespace controller's conditions.
type NamespaceStatus struct {
	// Phase is Active or Terminating.
	Phase string `json:"phase,omitempty"`
	// Conditions report how the deletion of a terminating namespace
	// goes.
	Conditions []NamespaceCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// NamespaceCondition is one condition of a namespace.
type NamespaceCondition struct {
	// Type is one of the NamespaceDeletion*, NamespaceContentRemaining and
	// NamespaceFinalizersRemaining condition types.
	Type string `json:"type"`
	// Status is True, False or Unknown.
	Status string `json:"status"`
	// LastTransitionTime is when Status last changed.
	LastTransitionTime store.Time `json:"lastTransitionTime,omitzero"`
	// Reason is a one-word CamelCase reason.
	Reason string `json:"reason,omitempty"`
	// Message says more, for people.
	Message string `json:"message,omitempty"`
}

// Namespace phases.
const (
	NamespaceActive      = "Active"
	NamespaceTerminating = "Terminating"
)

// FinalizerKubernetes is the namespace finalizer (in spec.finalizers) the
// namespace controller removes once a terminating namespace is empty.
const FinalizerKubernetes = "kubernetes"

// Namespace condition types, as Kubernetes' namespace controller reports
// them while it deletes a namespace's content.
const (
	NamespaceDeletionDiscoveryFailure = "NamespaceDeletionDiscoveryFailure"
	NamespaceDeletionContentFailure   = "NamespaceDeletionContentFailure"
	NamespaceContentRemaining         = "NamespaceContentRemaining"
	NamespaceFinalizersRemaining      = "NamespaceFinalizersRemaining"
)

// NamespaceTerminatingCause is the StatusCause type of the 403 for a create
// in a terminating namespace.
const NamespaceTerminatingCause = "NamespaceTerminating"

// Node is a machine that runs pods (core v1, cluster-scoped).
type Node struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             NodeSpec   `json:"spec,omitempty"`
	Status           NodeStatus `json:"status,omitempty"`
}

// NodeSpec is a node's desired state.
type NodeSpec struct {
	PodCIDR       string   `json:"podCIDR,omitempty"`
	PodCIDRs      []string `json:"podCIDRs,omitempty" patchStrategy:"merge"`
	ProviderID    string   `json:"providerID,omitempty"`
	Unschedulable bool     `json:"unschedulable,omitempty"`
	Taints        []Taint  `json:"taints,omitempty"`
}

// Taint repels pods that do not tolerate it.
type Taint struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect    string      `json:"effect"`
	TimeAdded *store.Time `json:"timeAdded,omitempty"`
}

// Taint effects.
const (
	TaintNoSchedule       = "NoSchedule"
	TaintPreferNoSchedule = "PreferNoSchedule"
	TaintNoExecute        = "NoExecute"
)

// NodeStatus is a node's observed state.
type NodeStatus struct {
	Capacity    ResourceList    `json:"capacity,omitempty"`
	Allocatable ResourceList    `json:"allocatable,omitempty"`
	Conditions  []NodeCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	Addresses   []NodeAddress   `json:"addresses,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	NodeInfo    NodeSystemInfo  `json:"nodeInfo,omitempty"`
}

// NodeCondition is one condition of a node, e.g. Ready.
type NodeCondition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	LastHeartbeatTime  store.Time `json:"lastHeartbeatTime,omitzero"`
	LastTransitionTime store.Time `json:"lastTransitionTime,omitzero"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// NodeAddress is one address of a node (type InternalIP, ExternalIP, Hostname).
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	MachineID               string `json:"machineID"`
	SystemUUID              string `json:"systemUUID"`
	BootID                  string `json:"bootID"`
	KernelVersion           string `json:"kernelVersion"`
	OSImage                 string `json:"osImage"`
	ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
	KubeletVersion          string `json:"kubeletVersion"`
	KubeProxyVersion        string `json:"kubeProxyVersion"`
	OperatingSystem         string `json:"operatingSystem"`
	Architecture            string `json:"architecture"`
}

// Condition statuses.
const (
	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Service exposes pods behind one virtual IP (core v1).
type Service struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             ServiceSpec   `json:"spec,omitempty"`
	Status           ServiceStatus `json:"status,omitempty"`
}

// ServiceSpec is a service's desired state.
type ServiceSpec struct {
	Ports    []ServicePort     `json:"ports,omitempty" patchStrategy:"merge" patchMergeKey:"port"`
	Selector map[string]string `json:"selector,omitempty"`
	// ClusterIP is assigned by the apiserver unless set; "None" is headless.
	ClusterIP  string   `json:"clusterIP,omitempty"`
	ClusterIPs []string `json:"clusterIPs,omitempty"`
	// Type is ClusterIP (default) or NodePort.
	Type            string   `json:"type,omitempty"`
	ExternalIPs     []string `json:"externalIPs,omitempty"`
	SessionAffinity string   `json:"sessionAffinity,omitempty"`
}

// Service types.
const (
	ServiceClusterIP = "ClusterIP"
	ServiceNodePort  = "NodePort"
)

// ServicePort is one port of a service.
type ServicePort struct {
	Name string `json:"name,omitempty"`
	// Protocol is TCP (default), UDP or SCTP.
	Protocol string `json:"protocol,omitempty"`
	Port     int32  `json:"port"`
	// TargetPort is the pods' port number or name; defaults to Port.
	TargetPort IntOrString `json:"targetPort,omitzero"`
	NodePort   int32       `json:"nodePort,omitempty"`
}

// ServiceStatus is a service's observed state.
type ServiceStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// LoadBalancerStatus lists a load balancer's ingress points.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one ingress point.
type LoadBalancerIngress struct {
	IP       string `json:"ip,omitempty"`
	Hostname string `json:"hostname,omitempty"`
}

// Endpoints lists the addresses that back a service (core v1).
type Endpoints struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Subsets          []EndpointSubset `json:"subsets,omitempty"`
}

// EndpointSubset is a set of addresses sharing a set of ports.
type EndpointSubset struct {
	Addresses         []EndpointAddress `json:"addresses,omitempty"`
	NotReadyAddresses []EndpointAddress `json:"notReadyAddresses,omitempty"`
	Ports             []EndpointPort    `json:"ports,omitempty"`
}

// EndpointAddress is one backend.
type EndpointAddress struct {
	IP        string           `json:"ip"`
	Hostname  string           `json:"hostname,omitempty"`
	NodeName  *string          `json:"nodeName,omitempty"`
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
}

// EndpointPort is one port of the backends.
type EndpointPort struct {
	Name     string `json:"name,omitempty"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol,omitempty"`
}

// Event records something that happened to an object (core v1).
type Event struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata"`
	InvolvedObject   ObjectReference `json:"involvedObject"`
	Reason           string          `json:"reason,omitempty"`
	Message          string          `json:"message,omitempty"`
	Source           EventSource     `json:"source,omitempty"`
	FirstTimestamp   store.Time      `json:"firstTimestamp,omitzero"`
	LastTimestamp    store.Time      `json:"lastTimestamp,omitzero"`
	Count            int32           `json:"count,omitempty"`
	// Type is Normal or Warning.
	Type                string    `json:"type,omitempty"`
	EventTime           MicroTime `json:"eventTime,omitzero"`
	ReportingController string    `json:"reportingComponent,omitempty"`
	ReportingInstance   string    `json:"reportingInstance,omitempty"`
}

// EventSource names the component that reported an event.
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// Event types.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// ResourceQuota limits the total resources of a namespace (core v1).
type ResourceQuota struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             ResourceQuotaSpec   `json:"spec,omitempty"`
	Status           ResourceQuotaStatus `json:"status,omitempty"`
}

// ResourceQuotaSpec holds the hard limits, keyed by "pods",
// "requests.cpu", "requests.memory", "limits.cpu", "limits.memory", ...
type ResourceQuotaSpec struct {
	Hard ResourceList `json:"hard,omitempty"`
}

// ResourceQuotaStatus is the enforced limits and current usage.
type ResourceQuotaStatus struct {
	Hard ResourceList `json:"hard,omitempty"`
	Used ResourceList `json:"used,omitempty"`
}

// Lease is a lock record for leader election (coordination.k8s.io/v1): the
// library's election.Lease, which the elector's object lock writes.
type Lease = election.Lease

// LeaseSpec is the lock's state: election.LeaseSpec.
type LeaseSpec = election.LeaseSpec
