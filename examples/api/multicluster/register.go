package multicluster

import "github.com/setpoint-dev/setpoint/store"

// GroupName is the API group of multi-cluster management.
const GroupName = "multicluster.setpoint.dev"

// Version is the group's only version.
const Version = "v1alpha1"

// GroupVersion is the apiVersion of the group's objects.
const GroupVersion = GroupName + "/" + Version

var (
	// ClusterRegistrationRequestResource: clusterregistrationrequests,
	// cluster-scoped.
	ClusterRegistrationRequestResource = store.Resource{Name: "clusterregistrationrequests", APIVersion: GroupVersion, Kind: "ClusterRegistrationRequest"}
	// ManagedClusterResource: managedclusters, namespaced (the child's
	// dedicated namespace).
	ManagedClusterResource = store.Resource{Name: "managedclusters", APIVersion: GroupVersion, Kind: "ManagedCluster", Namespaced: true}
	// SubscriptionResource: subscriptions, namespaced.
	SubscriptionResource = store.Resource{Name: "subscriptions", APIVersion: GroupVersion, Kind: "Subscription", Namespaced: true}
	// BaseResource: bases, namespaced (a child's dedicated namespace).
	BaseResource = store.Resource{Name: "bases", APIVersion: GroupVersion, Kind: "Base", Namespaced: true}
	// LocalizationResource: localizations, namespaced (a child's
	// dedicated namespace).
	LocalizationResource = store.Resource{Name: "localizations", APIVersion: GroupVersion, Kind: "Localization", Namespaced: true}
	// GlobalizationResource: globalizations, cluster-scoped.
	GlobalizationResource = store.Resource{Name: "globalizations", APIVersion: GroupVersion, Kind: "Globalization"}
	// DescriptionResource: descriptions, namespaced (a child's dedicated
	// namespace).
	DescriptionResource = store.Resource{Name: "descriptions", APIVersion: GroupVersion, Kind: "Description", Namespaced: true}
)
