package election

import (
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

// The Lease object's schema, as in Kubernetes' coordination API.
const (
	// LeaseAPIVersion is the apiVersion of Lease objects.
	LeaseAPIVersion = "coordination.k8s.io/v1"
	// LeaseKind is the kind of Lease objects.
	LeaseKind = "Lease"
)

// LeaseResource describes Lease objects for store.New: namespaced "leases"
// of kind Lease in coordination.k8s.io/v1.
var LeaseResource = store.Resource{Name: "leases", APIVersion: LeaseAPIVersion, Kind: LeaseKind, Namespaced: true}

// Lease is the object a lock record is stored as, shaped field for field
// like Kubernetes' coordination.k8s.io/v1 Lease, so Kubernetes tools read it
// and the example cluster serves it as its Lease kind.
type Lease struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the lock record.
	Spec LeaseSpec `json:"spec,omitempty"`
}

// LeaseSpec is the state of a lock: who holds it, for how long, and since
// when. Its fields and JSON names are those of Kubernetes' LeaseSpec; a nil
// field is absent. The elector writes HolderIdentity, LeaseDurationSeconds,
// AcquireTime, RenewTime and LeaseTransitions, and carries Strategy and
// PreferredHolder (coordinated leader election) without acting on them.
type LeaseSpec struct {
	// HolderIdentity is the identity of the current holder.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long the holder promised that candidates
	// must wait, after they last saw the record change, before they take
	// over. The elector writes its LeaseDuration rounded up to whole
	// seconds.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the holder acquired the lock, by its own clock.
	AcquireTime *store.MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the holder last renewed the lock, by its own clock.
	// It is informational: no candidate compares it with its own clock.
	RenewTime *store.MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions counts how often the lock changed holders (as far
	// as each new holder saw the previous record).
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
	// Strategy is the strategy for picking the leader in coordinated
	// leader election; nil means no coordination.
	Strategy *CoordinatedLeaseStrategy `json:"strategy,omitempty"`
	// PreferredHolder signals to the holder that another candidate would be
	// a better holder and that it should give the lease up. Only set
	// together with Strategy.
	PreferredHolder *string `json:"preferredHolder,omitempty"`
}

// CoordinatedLeaseStrategy names a strategy for coordinated leader election,
// as in Kubernetes.
type CoordinatedLeaseStrategy string

// OldestEmulationVersion picks the candidate with the oldest emulation
// version (then binary version, then creation time), Kubernetes' one
// coordinated strategy.
const OldestEmulationVersion CoordinatedLeaseStrategy = "OldestEmulationVersion"

// Holder returns *HolderIdentity, or "" when it is nil.
func (s *LeaseSpec) Holder() string {
	if s.HolderIdentity == nil {
		return ""
	}
	return *s.HolderIdentity
}

// Duration returns *LeaseDurationSeconds as a duration, or 0 when it is nil.
func (s *LeaseSpec) Duration() time.Duration {
	if s.LeaseDurationSeconds == nil {
		return 0
	}
	return time.Duration(*s.LeaseDurationSeconds) * time.Second
}

// Transitions returns *LeaseTransitions, or 0 when it is nil.
func (s *LeaseSpec) Transitions() int32 {
	if s.LeaseTransitions == nil {
		return 0
	}
	return *s.LeaseTransitions
}

// DeepCopy returns a copy of s that shares no memory with it.
func (s *LeaseSpec) DeepCopy() LeaseSpec {
	c := *s
	c.HolderIdentity = clonePtr(s.HolderIdentity)
	c.LeaseDurationSeconds = clonePtr(s.LeaseDurationSeconds)
	c.AcquireTime = clonePtr(s.AcquireTime)
	c.RenewTime = clonePtr(s.RenewTime)
	c.LeaseTransitions = clonePtr(s.LeaseTransitions)
	c.Strategy = clonePtr(s.Strategy)
	c.PreferredHolder = clonePtr(s.PreferredHolder)
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

var _ store.Object = (*Lease)(nil)

// Lease.DeepCopy is generated into zz_generated_deepcopy.go by
// cmd/deepcopy-gen, so that it copies every ObjectMeta field.
//
//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen -type Lease

// durationSeconds rounds d up to whole seconds, at least 1.
func durationSeconds(d time.Duration) int32 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return int32(s)
}
