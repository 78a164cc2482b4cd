package api

import "github.com/setpoint-dev/setpoint/store"

// Status is the result of a request that returns no object, and the body of
// every error response (metav1.Status: kind "Status", apiVersion "v1").
type Status struct {
	store.TypeMeta `json:",inline"`
	ListMeta       `json:"metadata"`
	// Status is StatusSuccess or StatusFailure.
	Status string `json:"status,omitempty"`
	// Message is a human-readable description.
	Message string `json:"message,omitempty"`
	// Reason is a machine-readable word such as "NotFound" or "Conflict".
	Reason string `json:"reason,omitempty"`
	// Details add the object's identity and per-field causes.
	Details *StatusDetails `json:"details,omitempty"`
	// Code is the HTTP status code.
	Code int32 `json:"code,omitempty"`
}

// Values of Status.Status.
const (
	StatusSuccess = "Success"
	StatusFailure = "Failure"
)

// StatusDetails identify the object a Status is about.
type StatusDetails struct {
	Name  string `json:"name,omitempty"`
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
	UID   string `json:"uid,omitempty"`
	// Causes list individual problems, such as invalid fields.
	Causes []StatusCause `json:"causes,omitempty"`
	// RetryAfterSeconds suggests when to retry (429, 503).
	RetryAfterSeconds int32 `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one reason for a failure.
type StatusCause struct {
	// Type is a machine-readable cause, e.g. "FieldValueInvalid".
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Field is the path of the offending field, e.g. "spec.replicas".
	Field string `json:"field,omitempty"`
}

// NewStatus returns a Status with kind and apiVersion set.
func NewStatus(code int32, reason, message string) *Status {
	st := StatusFailure
	if code >= 200 && code < 300 {
		st = StatusSuccess
	}
	return &Status{TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: st, Code: code, Reason: reason, Message: message}
}
