package watch

import (
	"context"
	"errors"
	"net/http"
)

// Status is the Kubernetes Status object (meta/v1 Status): the body of every
// error response of a Kubernetes-style server, of some successful deletes,
// and the object of an ERROR watch event. It is setpoint's one Status type;
// the REST server and client use it as is. On the wire:
//
//	{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"...","reason":"Expired","code":410}
type Status struct {
	// Kind is "Status".
	Kind string `json:"kind,omitempty"`
	// APIVersion is "v1".
	APIVersion string `json:"apiVersion,omitempty"`
	// Metadata is list metadata, almost always empty; it is always written.
	Metadata StatusMeta `json:"metadata"`
	// Status is StatusSuccess or StatusFailure.
	Status string `json:"status,omitempty"`
	// Message is the human-readable description.
	Message string `json:"message,omitempty"`
	// Reason is a machine-readable word such as StatusReasonExpired; it
	// refines Code.
	Reason string `json:"reason,omitempty"`
	// Details name the object the status is about and, for 422, the invalid
	// fields.
	Details *StatusDetails `json:"details,omitempty"`
	// Code is the HTTP status code.
	Code int32 `json:"code,omitempty"`
}

// StatusMeta is the metadata of a Status (Kubernetes' ListMeta).
type StatusMeta struct {
	// ResourceVersion is rarely set on a Status.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Continue is rarely set on a Status.
	Continue string `json:"continue,omitempty"`
	// RemainingItemCount is rarely set on a Status.
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// StatusDetails name the object a Status is about and list the causes.
type StatusDetails struct {
	// Name is the object's name.
	Name string `json:"name,omitempty"`
	// Group is the object's API group ("" for core).
	Group string `json:"group,omitempty"`
	// Kind is the object's kind or resource.
	Kind string `json:"kind,omitempty"`
	// UID is the object's UID, when known.
	UID string `json:"uid,omitempty"`
	// Causes list individual problems, such as each invalid field of a 422.
	Causes []StatusCause `json:"causes,omitempty"`
	// RetryAfterSeconds suggests when to retry (429, 503, 504).
	RetryAfterSeconds int32 `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one reason for a failure.
type StatusCause struct {
	// Type is a machine-readable cause, such as "FieldValueInvalid". Its JSON
	// name is "reason", as in Kubernetes.
	Type string `json:"reason,omitempty"`
	// Message is the human-readable description of this cause.
	Message string `json:"message,omitempty"`
	// Field is the path of the offending field, such as "spec.replicas".
	Field string `json:"field,omitempty"`
}

// Values of Status.Status.
const (
	StatusSuccess = "Success"
	StatusFailure = "Failure"
)

// Status reasons, the same strings as Kubernetes' metav1.StatusReason (plus
// setpoint's StatusReasonFenced).
const (
	StatusReasonBadRequest            = "BadRequest"            // 400
	StatusReasonUnauthorized          = "Unauthorized"          // 401
	StatusReasonForbidden             = "Forbidden"             // 403
	StatusReasonNotFound              = "NotFound"              // 404
	StatusReasonMethodNotAllowed      = "MethodNotAllowed"      // 405
	StatusReasonNotAcceptable         = "NotAcceptable"         // 406
	StatusReasonAlreadyExists         = "AlreadyExists"         // 409
	StatusReasonConflict              = "Conflict"              // 409
	StatusReasonGone                  = "Gone"                  // 410; maps to ErrGone
	StatusReasonExpired               = "Expired"               // 410: the start revision was compacted; maps to ErrGone
	StatusReasonRequestEntityTooLarge = "RequestEntityTooLarge" // 413
	StatusReasonUnsupportedMediaType  = "UnsupportedMediaType"  // 415
	StatusReasonInvalid               = "Invalid"               // 422, with one cause per field
	StatusReasonTooManyRequests       = "TooManyRequests"       // 429; a watcher that fell behind: ErrTooSlow
	StatusReasonInternalError         = "InternalError"         // 500
	StatusReasonServiceUnavailable    = "ServiceUnavailable"    // 503; maps to ErrClosed
	StatusReasonTimeout               = "Timeout"               // 504
	// StatusReasonFenced (409) is setpoint's: a write's fence no longer
	// held; clients map it to store.ErrFenced.
	StatusReasonFenced = "Fenced"
)

// NewStatus returns a Status with kind, apiVersion and code set, and status
// StatusSuccess for a 2xx code, StatusFailure otherwise.
func NewStatus(code int, reason, message string) *Status {
	st := StatusFailure
	if code >= 200 && code < 300 {
		st = StatusSuccess
	}
	return &Status{Kind: "Status", APIVersion: "v1", Status: st, Code: int32(code), Reason: reason, Message: message}
}

// StatusFor returns the Status that describes err on the wire: a
// *StatusError its own Status; ErrGone 410 Expired; ErrTooSlow 429
// TooManyRequests; ErrClosed 503 ServiceUnavailable; a context deadline 504
// Timeout; anything else 500 InternalError. The message is err's text.
func StatusFor(err error) Status {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	if err == nil {
		err = ErrClosed
	}
	var code int
	var reason string
	switch {
	case errors.Is(err, ErrGone):
		code, reason = http.StatusGone, StatusReasonExpired
	case errors.Is(err, ErrTooSlow):
		code, reason = http.StatusTooManyRequests, StatusReasonTooManyRequests
	case errors.Is(err, ErrClosed):
		code, reason = http.StatusServiceUnavailable, StatusReasonServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		code, reason = http.StatusGatewayTimeout, StatusReasonTimeout
	default:
		code, reason = http.StatusInternalServerError, StatusReasonInternalError
	}
	return *NewStatus(code, reason, err.Error())
}

// StatusError is an error that is a Status: what a decoded ERROR event
// carries, and what a server's code returns to answer with a chosen Status
// (for example NewStatusError(403, StatusReasonForbidden, "...")). It
// unwraps to the sentinel its code maps to: ErrGone for 410, ErrTooSlow for
// 429 TooManyRequests, ErrClosed for 503; none otherwise — and to Err
// when it is set.
type StatusError struct {
	// Status is the status, answered as is.
	Status Status
	// Err, if set, is a cause the error also wraps (for errors.Is), for
	// example store.ErrConflict behind a 409 that a server chose to word
	// itself.
	Err error
}

// NewStatusError returns a *StatusError with NewStatus(code, reason,
// message).
func NewStatusError(code int, reason, message string) *StatusError {
	return &StatusError{Status: *NewStatus(code, reason, message)}
}

// Error returns the status message, prefixed with the reason when it has one.
func (e *StatusError) Error() string {
	msg := e.Status.Message
	if msg == "" {
		msg = "(no message)"
	}
	if e.Status.Reason != "" {
		return e.Status.Reason + ": " + msg
	}
	return msg
}

// Unwrap returns the sentinel the status maps to (if any) and Err (if
// set).
func (e *StatusError) Unwrap() []error {
	var errs []error
	switch {
	case e.Status.Code == http.StatusGone:
		errs = append(errs, ErrGone)
	case e.Status.Code == http.StatusTooManyRequests && e.Status.Reason == StatusReasonTooManyRequests:
		errs = append(errs, ErrTooSlow)
	case e.Status.Code == http.StatusServiceUnavailable:
		errs = append(errs, ErrClosed)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
