package offers

import "github.com/setpoint-dev/setpoint/store"

// GroupName is the API group of two-level scheduling.
const GroupName = "offers.setpoint.dev"

// Version is the group's only version.
const Version = "v1alpha1"

// GroupVersion is the apiVersion of the group's objects.
const GroupVersion = GroupName + "/" + Version

var (
	// FrameworkResource: frameworks, offers.setpoint.dev/v1alpha1,
	// cluster-scoped.
	FrameworkResource = store.Resource{Name: "frameworks", APIVersion: GroupVersion, Kind: "Framework"}
	// OfferResource: offers, offers.setpoint.dev/v1alpha1, cluster-scoped.
	OfferResource = store.Resource{Name: "offers", APIVersion: GroupVersion, Kind: "Offer"}
)
