package multicluster

import (
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// Subscription says what to deploy (Feeds) to which child clusters
// (Subscribers) and how replicas are shared among them.
type Subscription struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is what and where.
	Spec SubscriptionSpec `json:"spec,omitempty"`
	// Status is the per-cluster progress.
	Status SubscriptionStatus `json:"status,omitempty"`
}

// SchedulingStrategy is how a Subscription shares replicas among the
// clusters it matches.
type SchedulingStrategy string

// SchedulingStrategies.
const (
	// Replication: every matched cluster gets the full replicas.
	Replication SchedulingStrategy = "Replication"
	// Dividing: the replicas are split among the matched clusters.
	Dividing SchedulingStrategy = "Dividing"
)

// DividingType is how Dividing splits replicas.
type DividingType string

// DividingTypes.
const (
	// DividingStatic: in proportion to the subscribers' weights.
	DividingStatic DividingType = "Static"
	// DividingDynamic: in proportion to each cluster's available capacity
	// (ManagedCluster status.available) for one replica's requests.
	DividingDynamic DividingType = "Dynamic"
)

// SubscriptionSpec is what a Subscription deploys and where.
type SubscriptionSpec struct {
	// SchedulingStrategy is Replication (the default) or Dividing.
	SchedulingStrategy SchedulingStrategy `json:"schedulingStrategy,omitempty"`
	// DividingType is Static (the default) or Dynamic; only with Dividing.
	DividingType DividingType `json:"dividingType,omitempty"`
	// Subscribers select the clusters; at least one.
	Subscribers []Subscriber `json:"subscribers"`
	// Feeds name existing objects in the parent to deploy.
	Feeds []Feed `json:"feeds,omitempty"`
	// Manifests are inline objects to deploy. Feeds and Manifests
	// together must hold at least one object.
	Manifests []api.RawExtension `json:"manifests,omitempty"`
}

// Subscriber selects clusters by their labels.
type Subscriber struct {
	// ClusterAffinity selects ManagedClusters by label; required (an
	// empty selector matches every cluster).
	ClusterAffinity *api.LabelSelector `json:"clusterAffinity"`
	// Weight is the clusters' share under static Dividing (default 1;
	// at least 1).
	Weight int32 `json:"weight,omitempty"`
}

// Feed names one object in the parent.
type Feed struct {
	// APIVersion is the object's apiVersion, such as "apps/v1".
	APIVersion string `json:"apiVersion"`
	// Kind is the object's kind, such as "Deployment".
	Kind string `json:"kind"`
	// Namespace is the object's namespace (empty for cluster-scoped).
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name.
	Name string `json:"name"`
}

// SubscriptionStatus is a Subscription's progress.
type SubscriptionStatus struct {
	// ObservedGeneration is the generation the status is for.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// BindingClusters are the matched clusters as namespace/name.
	BindingClusters []string `json:"bindingClusters,omitempty"`
	// Replicas are each bound cluster's replicas, keyed like
	// BindingClusters.
	Replicas map[string]int32 `json:"replicas,omitempty"`
	// Clusters is the per-cluster progress of the deployment.
	Clusters []ClusterProgress `json:"clusters,omitempty"`
	// Conditions: Valid (false with the field at fault), Scheduled,
	// Deployed.
	Conditions []api.Condition `json:"conditions,omitempty"`
}

// ClusterProgress is a Subscription's progress in one child.
type ClusterProgress struct {
	// Cluster is the cluster as namespace/name.
	Cluster string `json:"cluster"`
	// Phase is the Description's phase there.
	Phase DescriptionPhase `json:"phase,omitempty"`
	// Message explains a failure.
	Message string `json:"message,omitempty"`
}

// SubscriptionList is a list of Subscriptions.
type SubscriptionList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the subscriptions.
	Items []Subscription `json:"items"`
}

// Base is one Subscription's objects rendered for one child, before
// overrides; it lives in the child's dedicated namespace.
type Base struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the rendered objects.
	Spec BaseSpec `json:"spec,omitempty"`
}

// BaseSpec is what a Base holds.
type BaseSpec struct {
	// Subscription is the source Subscription as namespace/name.
	Subscription string `json:"subscription"`
	// Feeds are the objects the Subscription names.
	Feeds []Feed `json:"feeds,omitempty"`
	// Objects are the rendered objects (replicas set for this cluster).
	Objects []api.RawExtension `json:"objects,omitempty"`
}

// BaseList is a list of Bases.
type BaseList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the bases.
	Items []Base `json:"items"`
}

// OverrideType is the patch format of an override.
type OverrideType string

// OverrideTypes.
const (
	// JSONPatchOverride: an RFC 6902 JSON patch (an array of operations).
	JSONPatchOverride OverrideType = "JSONPatch"
	// MergePatchOverride: an RFC 7386 JSON merge patch (an object).
	MergePatchOverride OverrideType = "MergePatch"
)

// Override is one patch to the objects matching a Localization's or
// Globalization's feed.
type Override struct {
	// Name names the override in conditions.
	Name string `json:"name,omitempty"`
	// Type is JSONPatch or MergePatch; required.
	Type OverrideType `json:"type"`
	// Value is the patch document; required.
	Value string `json:"value"`
}

// OverrideSpec is what a Localization or Globalization changes.
type OverrideSpec struct {
	// Feed is the object the overrides apply to; required.
	Feed Feed `json:"feed"`
	// Priority orders overrides: lower first, so a higher one wins
	// (0 to 1000, default 500, as Clusternet).
	Priority int32 `json:"priority,omitempty"`
	// Overrides are applied in order.
	Overrides []Override `json:"overrides"`
}

// Localization overrides a feed's objects in one child: it lives in the
// child's dedicated namespace.
type Localization struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the overrides.
	Spec OverrideSpec `json:"spec,omitempty"`
}

// LocalizationList is a list of Localizations.
type LocalizationList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the localizations.
	Items []Localization `json:"items"`
}

// Globalization overrides a feed's objects in every child its
// ClusterAffinity matches; it is cluster-scoped.
type Globalization struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the overrides.
	Spec OverrideSpec `json:"spec,omitempty"`
	// ClusterAffinity selects the clusters; nil means every cluster.
	ClusterAffinity *api.LabelSelector `json:"clusterAffinity,omitempty"`
}

// GlobalizationList is a list of Globalizations.
type GlobalizationList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the globalizations.
	Items []Globalization `json:"items"`
}

// AgentFinalizer is the finalizer a pulling agent puts on each
// Description it applied, and removes once it has removed the
// Description's objects from its child; the hub removes it when it
// deregisters the cluster (whose agent can then no longer act).
const AgentFinalizer = "multicluster.setpoint.dev/agent"

// HubFinalizer is the finalizer the hub puts on each ManagedCluster it
// creates at registration: deleting the ManagedCluster (or its dedicated
// namespace) deregisters the cluster (its credentials are revoked and its
// request removed) before the object goes, even if the hub was down when
// the delete was asked for, as a Kubernetes finalizer guarantees.
const HubFinalizer = "multicluster.setpoint.dev/hub"

// Description is the final objects for one child after overrides; the
// agent applies them and removes what a newer Description no longer holds.
type Description struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the objects.
	Spec DescriptionSpec `json:"spec,omitempty"`
	// Status is what the child made of them.
	Status DescriptionStatus `json:"status,omitempty"`
}

// DescriptionSpec is what a Description holds.
type DescriptionSpec struct {
	// Subscription is the source Subscription as namespace/name.
	Subscription string `json:"subscription"`
	// Objects are the objects to apply in the child.
	Objects []api.RawExtension `json:"objects,omitempty"`
}

// DescriptionPhase is how applying a Description went.
type DescriptionPhase string

// DescriptionPhases.
const (
	// DescriptionPending: not applied yet.
	DescriptionPending DescriptionPhase = "Pending"
	// DescriptionSuccess: every object applied.
	DescriptionSuccess DescriptionPhase = "Success"
	// DescriptionFailure: some object was rejected; Reason says which.
	DescriptionFailure DescriptionPhase = "Failure"
)

// DescriptionStatus is what the child made of a Description.
type DescriptionStatus struct {
	// Phase is Pending, Success or Failure.
	Phase DescriptionPhase `json:"phase,omitempty"`
	// Reason explains a failure, naming the object.
	Reason string `json:"reason,omitempty"`
	// Objects are each object's status in the child.
	Objects []ObjectStatus `json:"objects,omitempty"`
}

// ObjectStatus is one applied object's state in a child.
type ObjectStatus struct {
	// Feed names the object.
	Feed Feed `json:"feed"`
	// Applied says whether the child accepted it.
	Applied bool `json:"applied"`
	// Message is the child's error when it did not.
	Message string `json:"message,omitempty"`
	// Status is the object's status in the child, as JSON.
	Status api.RawExtension `json:"status,omitempty"`
}

// DescriptionList is a list of Descriptions.
type DescriptionList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the descriptions.
	Items []Description `json:"items"`
}
