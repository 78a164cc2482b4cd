package multicluster

import (
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// ClusterRegistrationRequest is an agent's request to admit its child
// cluster to the hub. The agent creates it with a bootstrap token that may
// do nothing else; its name is "mcls-" + the cluster ID.
type ClusterRegistrationRequest struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is what the agent says about its child.
	Spec ClusterRegistrationRequestSpec `json:"spec,omitempty"`
	// Status is the hub's answer.
	Status ClusterRegistrationRequestStatus `json:"status,omitempty"`
}

// ClusterRegistrationRequestSpec describes the child cluster asking to
// register.
type ClusterRegistrationRequestSpec struct {
	// ClusterID is the child's unique ID (the UID of its kube-system
	// namespace in Clusternet); required, a DNS label.
	ClusterID string `json:"clusterId"`
	// ClusterName is a human-readable name; default the cluster ID.
	ClusterName string `json:"clusterName,omitempty"`
	// ClusterLabels are copied onto the ManagedCluster, where
	// Subscriptions select on them.
	ClusterLabels map[string]string `json:"clusterLabels,omitempty"`
	// Platform is the child's OS/architecture, such as "linux/amd64".
	Platform string `json:"platform,omitempty"`
	// KubernetesVersion is the child apiserver's gitVersion.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// SyncMode is how the agent takes Descriptions: Pull (the default,
	// and the only mode implemented) or Push.
	SyncMode SyncMode `json:"syncMode,omitempty"`
}

// SyncMode is how Descriptions reach a child.
type SyncMode string

// SyncModes.
const (
	// SyncPull: the agent watches its Descriptions and applies them.
	SyncPull SyncMode = "Pull"
	// SyncPush: the hub applies Descriptions through the tunnel.
	SyncPush SyncMode = "Push"
)

// RegistrationResult is the hub's decision on a registration request.
type RegistrationResult string

// RegistrationResults.
const (
	// RegistrationPending: not decided yet.
	RegistrationPending RegistrationResult = "Pending"
	// RegistrationApproved: admitted; the status carries credentials.
	RegistrationApproved RegistrationResult = "Approved"
	// RegistrationDenied: refused; ErrorMessage says why.
	RegistrationDenied RegistrationResult = "Denied"
)

// ClusterRegistrationRequestStatus is the hub's answer to a request.
type ClusterRegistrationRequestStatus struct {
	// Result is Pending, Approved or Denied.
	Result RegistrationResult `json:"result,omitempty"`
	// ErrorMessage says why a request was denied or failed.
	ErrorMessage string `json:"errorMessage,omitempty"`
	// DedicatedNamespace is the child's namespace in the parent.
	DedicatedNamespace string `json:"dedicatedNamespace,omitempty"`
	// ManagedClusterName is the ManagedCluster's name in that namespace.
	ManagedClusterName string `json:"managedClusterName,omitempty"`
	// ServiceAccountName is the child's service account in its namespace.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Token is the child's own credential for the parent (base64 in
	// JSON); the agent uses it instead of the bootstrap token from then on.
	Token []byte `json:"token,omitempty"`
	// CACertificate is the parent's CA (PEM, base64 in JSON).
	CACertificate []byte `json:"caCertificate,omitempty"`
}

// ClusterRegistrationRequestList is a list of ClusterRegistrationRequests.
type ClusterRegistrationRequestList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the requests.
	Items []ClusterRegistrationRequest `json:"items"`
}

// ManagedCluster is a registered child cluster as the hub sees it.
type ManagedCluster struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec identifies the child.
	Spec ManagedClusterSpec `json:"spec,omitempty"`
	// Status is the child's last heartbeat and health.
	Status ManagedClusterStatus `json:"status,omitempty"`
}

// ManagedClusterSpec identifies a child cluster.
type ManagedClusterSpec struct {
	// ClusterID is the child's unique ID; required.
	ClusterID string `json:"clusterId"`
	// SyncMode is how Descriptions reach the child (default Pull).
	SyncMode SyncMode `json:"syncMode,omitempty"`
}

// Condition types of a ManagedCluster.
const (
	// ConditionReady: the child is healthy and reachable: its heartbeat
	// is fresh, its tunnel is connected and its apiserver reports ready.
	ConditionReady = "Ready"
	// ConditionHeartbeatFresh: a heartbeat arrived within the grace
	// period (reason HeartbeatMissed when not).
	ConditionHeartbeatFresh = "HeartbeatFresh"
	// ConditionTunnelConnected: the agent's tunnel is up (reason
	// TunnelDisconnected when not).
	ConditionTunnelConnected = "TunnelConnected"
)

// ManagedClusterStatus is what the agent last reported about its child,
// and the hub's judgement of it.
type ManagedClusterStatus struct {
	// LastObservedTime is when the hub received the last heartbeat.
	LastObservedTime store.Time `json:"lastObservedTime,omitempty"`
	// HeartbeatPeriodSeconds is the agent's heartbeat period.
	HeartbeatPeriodSeconds int64 `json:"heartbeatPeriodSeconds,omitempty"`
	// KubernetesVersion is the child apiserver's gitVersion.
	KubernetesVersion string `json:"k8sVersion,omitempty"`
	// Platform is the child's OS/architecture.
	Platform string `json:"platform,omitempty"`
	// Readyz is whether the child apiserver answered /readyz with ok.
	Readyz bool `json:"readyz"`
	// NodeCount is the number of the child's nodes.
	NodeCount int32 `json:"nodeCount"`
	// ReadyNodeCount is the number of them that are Ready.
	ReadyNodeCount int32 `json:"readyNodeCount"`
	// Allocatable is the sum of the ready nodes' allocatable resources.
	Allocatable api.ResourceList `json:"allocatable,omitempty"`
	// Available is Allocatable less the requests of the pods bound to
	// those nodes (never negative).
	Available api.ResourceList `json:"available,omitempty"`
	// Conditions are Ready, HeartbeatFresh and TunnelConnected.
	Conditions []api.Condition `json:"conditions,omitempty"`
}

// ManagedClusterList is a list of ManagedClusters.
type ManagedClusterList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the clusters.
	Items []ManagedCluster `json:"items"`
}
