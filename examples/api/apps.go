package api

import "github.com/setpoint-dev/setpoint/store"

// ReplicaSet keeps a number of identical pods running (apps/v1).
type ReplicaSet struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             ReplicaSetSpec   `json:"spec,omitempty"`
	Status           ReplicaSetStatus `json:"status,omitempty"`
}

// ReplicaSetSpec is a replica set's desired state.
type ReplicaSetSpec struct {
	// Replicas defaults to 1.
	Replicas        *int32          `json:"replicas,omitempty"`
	MinReadySeconds int32           `json:"minReadySeconds,omitempty"`
	Selector        *LabelSelector  `json:"selector"`
	Template        PodTemplateSpec `json:"template,omitempty"`
}

// ReplicaSetStatus is a replica set's observed state.
type ReplicaSetStatus struct {
	Replicas             int32               `json:"replicas"`
	FullyLabeledReplicas int32               `json:"fullyLabeledReplicas,omitempty"`
	ReadyReplicas        int32               `json:"readyReplicas,omitempty"`
	AvailableReplicas    int32               `json:"availableReplicas,omitempty"`
	ObservedGeneration   int64               `json:"observedGeneration,omitempty"`
	Conditions           []WorkloadCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// WorkloadCondition is a condition of a replica set, stateful set or daemon set.
type WorkloadCondition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	LastTransitionTime store.Time `json:"lastTransitionTime,omitzero"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// Deployment rolls out replica sets (apps/v1).
type Deployment struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             DeploymentSpec   `json:"spec,omitempty"`
	Status           DeploymentStatus `json:"status,omitempty"`
}

// DeploymentSpec is a deployment's desired state.
type DeploymentSpec struct {
	// Replicas defaults to 1.
	Replicas *int32          `json:"replicas,omitempty"`
	Selector *LabelSelector  `json:"selector"`
	Template PodTemplateSpec `json:"template"`
	// Strategy defaults to RollingUpdate with 25% surge and 25% unavailable.
	Strategy        DeploymentStrategy `json:"strategy,omitempty" patchStrategy:"retainKeys"`
	MinReadySeconds int32              `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	Paused               bool   `json:"paused,omitempty"`
	// ProgressDeadlineSeconds defaults to 600.
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`
}

// DeploymentStrategy is how a deployment replaces pods.
type DeploymentStrategy struct {
	// Type is RollingUpdate (default) or Recreate.
	Type          string                   `json:"type,omitempty"`
	RollingUpdate *RollingUpdateDeployment `json:"rollingUpdate,omitempty"`
}

// Deployment strategy types.
const (
	RollingUpdateStrategy = "RollingUpdate"
	RecreateStrategy      = "Recreate"
	OnDeleteStrategy      = "OnDelete"
)

// RollingUpdateDeployment bounds a rolling update.
type RollingUpdateDeployment struct {
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
	MaxSurge       *IntOrString `json:"maxSurge,omitempty"`
}

// DeploymentStatus is a deployment's observed state.
type DeploymentStatus struct {
	ObservedGeneration  int64                 `json:"observedGeneration,omitempty"`
	Replicas            int32                 `json:"replicas,omitempty"`
	UpdatedReplicas     int32                 `json:"updatedReplicas,omitempty"`
	ReadyReplicas       int32                 `json:"readyReplicas,omitempty"`
	AvailableReplicas   int32                 `json:"availableReplicas,omitempty"`
	UnavailableReplicas int32                 `json:"unavailableReplicas,omitempty"`
	Conditions          []DeploymentCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
	CollisionCount      *int32                `json:"collisionCount,omitempty"`
}

// DeploymentCondition is a condition of a deployment (Available, Progressing).
type DeploymentCondition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	LastUpdateTime     store.Time `json:"lastUpdateTime,omitzero"`
	LastTransitionTime store.Time `json:"lastTransitionTime,omitzero"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// StatefulSet runs pods with stable identities (apps/v1).
type StatefulSet struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             StatefulSetSpec   `json:"spec,omitempty"`
	Status           StatefulSetStatus `json:"status,omitempty"`
}

// StatefulSetSpec is a stateful set's desired state.
type StatefulSetSpec struct {
	// Replicas defaults to 1.
	Replicas    *int32          `json:"replicas,omitempty"`
	Selector    *LabelSelector  `json:"selector"`
	Template    PodTemplateSpec `json:"template"`
	ServiceName string          `json:"serviceName,omitempty"`
	// PodManagementPolicy is OrderedReady (default) or Parallel.
	PodManagementPolicy string                    `json:"podManagementPolicy,omitempty"`
	UpdateStrategy      StatefulSetUpdateStrategy `json:"updateStrategy,omitempty"`
	// RevisionHistoryLimit defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
	MinReadySeconds      int32  `json:"minReadySeconds,omitempty"`
}

// StatefulSetUpdateStrategy is how a stateful set replaces pods.
type StatefulSetUpdateStrategy struct {
	// Type is RollingUpdate (default) or OnDelete.
	Type          string                            `json:"type,omitempty"`
	RollingUpdate *RollingUpdateStatefulSetStrategy `json:"rollingUpdate,omitempty"`
}

// RollingUpdateStatefulSetStrategy bounds a stateful set's rolling update.
type RollingUpdateStatefulSetStrategy struct {
	// Partition: only ordinals >= Partition are updated. Defaults to 0.
	Partition      *int32       `json:"partition,omitempty"`
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
}

// StatefulSetStatus is a stateful set's observed state.
type StatefulSetStatus struct {
	ObservedGeneration int64               `json:"observedGeneration,omitempty"`
	Replicas           int32               `json:"replicas"`
	ReadyReplicas      int32               `json:"readyReplicas,omitempty"`
	CurrentReplicas    int32               `json:"currentReplicas,omitempty"`
	UpdatedReplicas    int32               `json:"updatedReplicas,omitempty"`
	AvailableReplicas  int32               `json:"availableReplicas,omitempty"`
	CurrentRevision    string              `json:"currentRevision,omitempty"`
	UpdateRevision     string              `json:"updateRevision,omitempty"`
	CollisionCount     *int32              `json:"collisionCount,omitempty"`
	Conditions         []WorkloadCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// DaemonSet runs one pod on each eligible node (apps/v1).
type DaemonSet struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             DaemonSetSpec   `json:"spec,omitempty"`
	Status           DaemonSetStatus `json:"status,omitempty"`
}

// DaemonSetSpec is a daemon set's desired state.
type DaemonSetSpec struct {
	Selector *LabelSelector  `json:"selector"`
	Template PodTemplateSpec `json:"template"`
	// UpdateStrategy defaults to RollingUpdate with maxUnavailable 1, maxSurge 0.
	UpdateStrategy  DaemonSetUpdateStrategy `json:"updateStrategy,omitempty"`
	MinReadySeconds int32                   `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit defaults to 10.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// DaemonSetUpdateStrategy is how a daemon set replaces pods.
type DaemonSetUpdateStrategy struct {
	// Type is RollingUpdate (default) or OnDelete.
	Type          string                  `json:"type,omitempty"`
	RollingUpdate *RollingUpdateDaemonSet `json:"rollingUpdate,omitempty"`
}

// RollingUpdateDaemonSet bounds a daemon set's rolling update.
type RollingUpdateDaemonSet struct {
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
	MaxSurge       *IntOrString `json:"maxSurge,omitempty"`
}

// DaemonSetStatus is a daemon set's observed state.
type DaemonSetStatus struct {
	CurrentNumberScheduled int32               `json:"currentNumberScheduled"`
	NumberMisscheduled     int32               `json:"numberMisscheduled"`
	DesiredNumberScheduled int32               `json:"desiredNumberScheduled"`
	NumberReady            int32               `json:"numberReady"`
	ObservedGeneration     int64               `json:"observedGeneration,omitempty"`
	UpdatedNumberScheduled int32               `json:"updatedNumberScheduled,omitempty"`
	NumberAvailable        int32               `json:"numberAvailable,omitempty"`
	NumberUnavailable      int32               `json:"numberUnavailable,omitempty"`
	CollisionCount         *int32              `json:"collisionCount,omitempty"`
	Conditions             []WorkloadCondition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Scale is the scale subresource of deployments, replica sets and stateful
// sets (autoscaling/v1), read and written by "kubectl scale".
type Scale struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             ScaleSpec   `json:"spec,omitempty"`
	Status           ScaleStatus `json:"status,omitempty"`
}

// ScaleSpec is the desired replica count.
type ScaleSpec struct {
	Replicas int32 `json:"replicas,omitempty"`
}

// ScaleStatus is the observed replica count and the pods' label selector.
type ScaleStatus struct {
	Replicas int32 `json:"replicas"`
	// Selector is the workload's label selector in text form.
	Selector string `json:"selector,omitempty"`
}

// The list types, each the wire shape {"apiVersion","kind","metadata","items"}.
type (
	NamespaceList     = List[Namespace]
	NodeList          = List[Node]
	PodList           = List[Pod]
	ServiceList       = List[Service]
	EndpointsList     = List[Endpoints]
	EventList         = List[Event]
	LeaseList         = List[Lease]
	ResourceQuotaList = List[ResourceQuota]
	ReplicaSetList    = List[ReplicaSet]
	DeploymentList    = List[Deployment]
	StatefulSetList   = List[StatefulSet]
	DaemonSetList     = List[DaemonSet]
)
