package offers

import (
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// DefaultRole is the role of a framework that names none, as in Mesos.
const DefaultRole = "*"

// Framework is a second-level scheduler registered with the allocator: it
// receives offers of node resources and launches its tasks (Pods with
// spec.schedulerName set to the framework's name) on what it accepts.
type Framework struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is what the framework asks of the allocator.
	Spec FrameworkSpec `json:"spec,omitempty"`
	// Status is what the allocator has given it.
	Status FrameworkStatus `json:"status,omitempty"`
}

// FrameworkSpec is a framework's registration: its role, its weight, and
// the resources it wants.
type FrameworkSpec struct {
	// Role is the role the framework allocates under: frameworks of one
	// role share the role's quota and reservations, and fairness is
	// computed between roles first, then between the role's frameworks.
	// Default "*".
	Role string `json:"role,omitempty"`
	// Weight scales the framework's fair share: a framework of weight 2
	// is entitled to twice the dominant share of one of weight 1. Default
	// 1; at least 1.
	Weight int32 `json:"weight,omitempty"`
	// TaskResources is what one task needs; an offer smaller than this in
	// any resource is not made to the framework.
	TaskResources api.ResourceList `json:"taskResources,omitempty"`
	// TotalResources bounds what the framework wants in all: once its
	// allocation reaches this in any resource, it is offered nothing more.
	// Empty means no bound.
	TotalResources api.ResourceList `json:"totalResources,omitempty"`
	// FailoverTimeout is how long the framework's tasks outlive its
	// disconnection before they are killed; nil means they are never
	// killed for that.
	FailoverTimeout *api.Duration `json:"failoverTimeout,omitempty"`
}

// FrameworkStatus is the allocator's view of a framework.
type FrameworkStatus struct {
	// Registered says whether the framework is connected and receiving
	// offers.
	Registered bool `json:"registered,omitempty"`
	// DominantShare is the framework's dominant share, the largest
	// fraction of the cluster's total of any one resource that its
	// allocation holds, as a decimal string such as "0.6667".
	DominantShare string `json:"dominantShare,omitempty"`
	// Allocated is what the framework's running tasks hold.
	Allocated api.ResourceList `json:"allocated,omitempty"`
	// Conditions are the framework's conditions (Registered, Hoarding).
	Conditions []api.Condition `json:"conditions,omitempty"`
}

// FrameworkList is a list of Frameworks.
type FrameworkList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the frameworks.
	Items []Framework `json:"items"`
}

// Offer is one node's unreserved free resources held for one framework
// until it accepts or declines them, or the offer expires or is rescinded.
// While an offer is pending its resources are offered to no one else, so
// no other scheduler books them.
type Offer struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is what is offered, to whom, until when.
	Spec OfferSpec `json:"spec,omitempty"`
	// Status is where the offer stands.
	Status OfferStatus `json:"status,omitempty"`
}

// OfferSpec is the content of an offer.
type OfferSpec struct {
	// Framework is the name of the framework the offer is made to.
	Framework string `json:"framework"`
	// Node is the name of the node whose resources are offered.
	Node string `json:"node"`
	// Resources are the offered resources.
	Resources api.ResourceList `json:"resources"`
	// ExpiryTime is when the offer lapses if not accepted or declined.
	ExpiryTime store.Time `json:"expiryTime"`
	// Tasks, set by the framework, accepts the offer: its task pods
	// ("namespace/name": pods whose spec.schedulerName is the framework's
	// name, not yet bound) to launch on the offered node. The allocator
	// binds them all if they fit in the offer, or binds none and says why
	// in the status.
	Tasks []string `json:"tasks,omitempty"`
	// Decline, set by the framework instead of Tasks, turns the offer
	// down: its resources return to the pool, and the framework is not
	// offered the node again for the decline's refuse time.
	Decline *OfferDecline `json:"decline,omitempty"`
}

// DefaultRefuseSeconds is a decline's refuse time when it names none, as
// Mesos' Filters.refuse_seconds defaults to 5.
const DefaultRefuseSeconds = 5

// MaxRefuseSeconds bounds a decline's refuse time: one year, beyond which
// Mesos too treats a filter as the most it honours.
const MaxRefuseSeconds = 365 * 24 * 3600

// OfferDecline is a framework's decline of an offer, with its filter.
type OfferDecline struct {
	// RefuseSeconds is how long the framework is not offered the
	// declined offer's node again (Mesos' refuse_seconds filter); 0
	// means it may be offered again at once. Default
	// DefaultRefuseSeconds; at most MaxRefuseSeconds.
	RefuseSeconds *int32 `json:"refuseSeconds,omitempty"`
}

// OfferPhase is where an offer stands.
type OfferPhase string

// Values of OfferPhase.
const (
	// OfferPending: made, not yet answered; its resources are held.
	OfferPending OfferPhase = "Pending"
	// OfferAccepted: the framework launched tasks on it; the unused
	// remainder returned to the pool.
	OfferAccepted OfferPhase = "Accepted"
	// OfferDeclined: the framework turned it down, perhaps with a filter.
	OfferDeclined OfferPhase = "Declined"
	// OfferRescinded: the allocator took it back (hoarding, node gone,
	// framework gone).
	OfferRescinded OfferPhase = "Rescinded"
	// OfferExpired: it lapsed unanswered.
	OfferExpired OfferPhase = "Expired"
)

// OfferStatus is where an offer stands and why.
type OfferStatus struct {
	// Phase is Pending, Accepted, Declined, Rescinded or Expired.
	Phase OfferPhase `json:"phase,omitempty"`
	// Reason is a short CamelCase cause of the phase, such as
	// "NodeRemoved" or "Hoarding".
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation.
	Message string `json:"message,omitempty"`
}

// OfferList is a list of Offers.
type OfferList struct {
	store.TypeMeta `json:",inline"`
	api.ListMeta   `json:"metadata,omitempty"`
	// Items are the offers.
	Items []Offer `json:"items"`
}
