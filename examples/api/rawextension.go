package api

// RawExtension holds an embedded object as raw JSON that is passed through
// unchanged (ControllerRevision's data), like Kubernetes' runtime
// RawExtension.
type RawExtension struct {
	// Raw is the JSON of the embedded object.
	Raw []byte `json:"-"`
}

// MarshalJSON returns the raw JSON, or null when there is none.
func (r RawExtension) MarshalJSON() ([]byte, error) {
	if r.Raw == nil {
		return []byte("null"), nil
	}
	return r.Raw, nil
}

// UnmarshalJSON keeps a copy of b; null leaves r empty.
func (r *RawExtension) UnmarshalJSON(b []byte) error {
	if string(b) != "null" {
		r.Raw = append(r.Raw[:0], b...)
	}
	return nil
}
