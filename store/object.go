package store

import (
	"fmt"
	"time"
)

// TypeMeta names an object's schema, like Kubernetes' TypeMeta. Embed it inline:
//
//	store.TypeMeta `json:",inline"`
type TypeMeta struct {
	// APIVersion is "group/version", or "v1" for the core group.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind is the object's type name, for example "Pod".
	Kind string `json:"kind,omitempty"`
}

// GetTypeMeta returns m itself, so that any struct embedding TypeMeta
// satisfies Object.
func (m *TypeMeta) GetTypeMeta() *TypeMeta { return m }

// Time is a timestamp that serializes as RFC 3339 in UTC with second
// precision, as Kubernetes' metav1.Time does. The zero Time serializes as null.
//
// Only times whose UTC form falls in years 0000 to 9999 have an RFC 3339
// form: decoding any other time (say "9999-12-31T23:59:59-23:59", which is
// in year 10000 in UTC) is an error, and so is encoding one, so such a time
// never reaches storage.
type Time struct {
	time.Time
}

// Now returns the current time truncated to seconds.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Second)} }

// NewTime wraps t, truncated to seconds.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

// MarshalJSON encodes t as an RFC 3339 string, or null when zero. It fails
// for a time outside years 0000 to 9999 (UTC).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	u := t.UTC()
	if err := CheckTimeRange(u); err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	b := make([]byte, 0, len(time.RFC3339)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes an RFC 3339 string or null, truncated to seconds
// (the precision Time keeps). A value that is not a
// string, not RFC 3339, or whose UTC form is outside years 0000 to 9999 is
// an error and leaves t unchanged.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return &time.ParseError{Layout: time.RFC3339, Value: string(b), Message: ": timestamp must be a JSON string"}
	}
	v, err := time.Parse(time.RFC3339, string(b[1:len(b)-1]))
	if err != nil {
		return err
	}
	v = v.UTC()
	if err := CheckTimeRange(v); err != nil {
		return fmt.Errorf("time %s: %w", b, err)
	}
	t.Time = v.Truncate(time.Second)
	return nil
}

// CheckTimeRange returns an error unless t's UTC form falls in years 0000
// to 9999, the years RFC 3339 can write: Time and MicroTime refuse to
// decode or encode any other time, and so should every other decoder of
// timestamps (protobuf, say).
func CheckTimeRange(t time.Time) error {
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("year %d in UTC is outside 0000-9999", y)
	}
	return nil
}

// OwnerReference points at an object that owns this one, as in Kubernetes.
type OwnerReference struct {
	// APIVersion is the owner's apiVersion.
	APIVersion string `json:"apiVersion"`
	// Kind is the owner's kind.
	Kind string `json:"kind"`
	// Name is the owner's name (in the same namespace, if namespaced).
	Name string `json:"name"`
	// UID is the owner's UID, so a re-created owner is a different owner.
	UID string `json:"uid"`
	// Controller marks the managing owner; at most one reference may set it.
	Controller *bool `json:"controller,omitempty"`
	// BlockOwnerDeletion is kept for wire compatibility.
	BlockOwnerDeletion *bool `json:"blockOwnerDeletion,omitempty"`
}

// ObjectMeta is the metadata every stored object has. Its JSON names follow
// Kubernetes' ObjectMeta. Embed it as `json:"metadata,omitempty"`.
type ObjectMeta struct {
	// Name is unique within a namespace (or the cluster, for cluster-scoped
	// resources). It must be a DNS-1123 subdomain.
	Name string `json:"name,omitempty"`
	// GenerateName, when Name is empty on Create, is a prefix to which the
	// store appends a random suffix.
	GenerateName string `json:"generateName,omitempty"`
	// Namespace is empty for cluster-scoped resources.
	Namespace string `json:"namespace,omitempty"`
	// UID is set by the store on Create and never changes.
	UID string `json:"uid,omitempty"`
	// ResourceVersion is the etcd modification revision of this state, as a
	// decimal string. Update compares it.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Generation counts changes to the desired state (everything but metadata
	// and status). Set by the store.
	Generation int64 `json:"generation,omitempty"`
	// CreationTimestamp is set by the store on Create.
	CreationTimestamp Time `json:"creationTimestamp,omitzero"`
	// DeletionTimestamp is set by the store when a delete is requested while
	// finalizers remain.
	DeletionTimestamp *Time `json:"deletionTimestamp,omitempty"`
	// DeletionGracePeriodSeconds is the grace period a pending deletion
	// was requested with; kept for wire compatibility with Kubernetes.
	DeletionGracePeriodSeconds *int64 `json:"deletionGracePeriodSeconds,omitempty"`
	// Labels are key/value pairs that selectors match.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are arbitrary key/value pairs.
	Annotations map[string]string `json:"annotations,omitempty"`
	// OwnerReferences list the objects this one depends on.
	OwnerReferences []OwnerReference `json:"ownerReferences,omitempty"`
	// Finalizers hold off deletion until each is removed.
	Finalizers []string `json:"finalizers,omitempty"`
	// ManagedFields records which field manager set which fields, as
	// Kubernetes' server-side apply keeps it.
	ManagedFields []ManagedFieldsEntry `json:"managedFields,omitempty"`
}

// ManagedFieldsEntry is one field manager's record in
// ObjectMeta.ManagedFields, as in Kubernetes.
type ManagedFieldsEntry struct {
	// Manager names the field manager (usually the client's name).
	Manager string `json:"manager,omitempty"`
	// Operation is "Apply" or "Update": how the manager last wrote.
	Operation string `json:"operation,omitempty"`
	// APIVersion is the version of the object the fields refer to.
	APIVersion string `json:"apiVersion,omitempty"`
	// Time is when the manager last changed the fields.
	Time *Time `json:"time,omitempty"`
	// FieldsType is the format of FieldsV1; always "FieldsV1".
	FieldsType string `json:"fieldsType,omitempty"`
	// FieldsV1 is the set of fields the manager owns.
	FieldsV1 *FieldsV1 `json:"fieldsV1,omitempty"`
	// Subresource is the subresource the manager wrote through, if any.
	Subresource string `json:"subresource,omitempty"`
}

// FieldsV1 is a set of field paths in Kubernetes' FieldsV1 JSON form, kept
// as raw JSON.
type FieldsV1 struct {
	// Raw is the JSON encoding of the set.
	Raw []byte
}

// MarshalJSON returns the raw JSON, or null when there is none.
func (f FieldsV1) MarshalJSON() ([]byte, error) {
	if f.Raw == nil {
		return []byte("null"), nil
	}
	return f.Raw, nil
}

// UnmarshalJSON keeps a copy of b; null leaves f empty.
func (f *FieldsV1) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		f.Raw = nil
		return nil
	}
	f.Raw = append(f.Raw[:0], b...)
	return nil
}

// GetObjectMeta returns m itself, so that any struct embedding ObjectMeta
// satisfies Object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// ControllerOf returns the owner reference marked as controller, or nil.
func (m *ObjectMeta) ControllerOf() *OwnerReference {
	for i := range m.OwnerReferences {
		if c := m.OwnerReferences[i].Controller; c != nil && *c {
			return &m.OwnerReferences[i]
		}
	}
	return nil
}

// Object is what the typed store holds: a pointer to a struct that embeds
// TypeMeta and ObjectMeta (both provide the methods). For example *api.Pod.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}
