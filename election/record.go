package election

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// MicroTime is a timestamp that serializes as RFC 3339 with microseconds in
// UTC, like Kubernetes' metav1.MicroTime. The zero MicroTime serializes as
// null.
type MicroTime struct {
	time.Time
}

// microLayout is RFC 3339 with exactly six fractional digits.
const microLayout = "2006-01-02T15:04:05.000000Z07:00"

// NewMicroTime wraps t, truncated to microseconds and with the monotonic
// clock reading stripped.
func NewMicroTime(t time.Time) MicroTime {
	if t.IsZero() {
		return MicroTime{}
	}
	return MicroTime{t.Round(0).UTC().Truncate(time.Microsecond)}
}

// MarshalJSON encodes t as an RFC 3339 string with microseconds, or null.
func (t MicroTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(microLayout) + `"`), nil
}

// UnmarshalJSON decodes an RFC 3339 string (any fractional precision) or null.
func (t *MicroTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("election: timestamp must be a JSON string: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("election: bad timestamp %q: %w", s, err)
	}
	t.Time = v.UTC()
	return nil
}

// LeaseRecord is the state of a lock: who holds it, for how long, and since
// when. It serializes with the JSON names of Kubernetes' LeaseSpec, so a lock
// record is readable by Kubernetes tools.
type LeaseRecord struct {
	// HolderIdentity is the identity of the current holder; empty when the
	// lock is free.
	HolderIdentity string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long the holder promised that candidates
	// must wait, after they last saw the record change, before they take
	// over. It is the holder's LeaseDuration rounded up to whole seconds.
	LeaseDurationSeconds int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the holder acquired the lock, by its own clock.
	AcquireTime MicroTime `json:"acquireTime,omitzero"`
	// RenewTime is when the holder last renewed the lock, by its own clock.
	// It is informational: no candidate compares it with its own clock.
	RenewTime MicroTime `json:"renewTime,omitzero"`
	// LeaderTransitions counts how often the lock changed holders (as far
	// as the new holder saw the previous record).
	LeaderTransitions int32 `json:"leaseTransitions,omitempty"`
}

// Lease is the readable object a lock record is stored as, shaped like
// Kubernetes' coordination.k8s.io/v1 Lease.
type Lease struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the lock record.
	Spec LeaseRecord `json:"spec,omitzero"`
}

var _ store.Object = (*Lease)(nil)

// DeepCopy returns a copy of l that shares no memory with it.
func (l *Lease) DeepCopy() *Lease {
	if l == nil {
		return nil
	}
	c := *l
	m := &c.ObjectMeta
	if l.DeletionTimestamp != nil {
		t := *l.DeletionTimestamp
		m.DeletionTimestamp = &t
	}
	m.Labels = copyMap(l.Labels)
	m.Annotations = copyMap(l.Annotations)
	if l.OwnerReferences != nil {
		m.OwnerReferences = make([]store.OwnerReference, len(l.OwnerReferences))
		for i, r := range l.OwnerReferences {
			if r.Controller != nil {
				v := *r.Controller
				r.Controller = &v
			}
			if r.BlockOwnerDeletion != nil {
				v := *r.BlockOwnerDeletion
				r.BlockOwnerDeletion = &v
			}
			m.OwnerReferences[i] = r
		}
	}
	if l.Finalizers != nil {
		m.Finalizers = append([]string(nil), l.Finalizers...)
	}
	return &c
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// durationSeconds rounds d up to whole seconds, at least 1.
func durationSeconds(d time.Duration) int32 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return int32(s)
}
