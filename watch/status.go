package watch

import (
	"errors"
	"net/http"
)

// Status is the Kubernetes Status object that an ERROR event carries on the
// wire, for example
//
//	{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"...","reason":"Expired","code":410}
type Status struct {
	// Kind is always "Status".
	Kind string `json:"kind"`
	// APIVersion is always "v1".
	APIVersion string `json:"apiVersion"`
	// Metadata is empty; it is kept for wire compatibility.
	Metadata struct{} `json:"metadata"`
	// Status is "Failure" for errors.
	Status string `json:"status"`
	// Message is the human-readable error.
	Message string `json:"message"`
	// Reason is a machine-readable cause such as StatusReasonExpired.
	Reason string `json:"reason"`
	// Code is the matching HTTP status code.
	Code int32 `json:"code"`
}

// Status reasons used by setpoint, the same strings as Kubernetes'.
const (
	// StatusReasonExpired (code 410): the start revision was compacted; the
	// client must relist. It maps to ErrGone.
	StatusReasonExpired = "Expired"
	// StatusReasonGone (code 410) also maps to ErrGone.
	StatusReasonGone = "Gone"
	// StatusReasonTooManyRequests (code 429): the watcher fell too far
	// behind. It maps to ErrTooSlow.
	StatusReasonTooManyRequests = "TooManyRequests"
	// StatusReasonServiceUnavailable (code 503): the server's source shut
	// down. It maps to ErrClosed.
	StatusReasonServiceUnavailable = "ServiceUnavailable"
	// StatusReasonInternalError (code 500): any other failure.
	StatusReasonInternalError = "InternalError"
)

// StatusFor returns the Status that describes err on the wire: ErrGone becomes
// 410 Expired, ErrTooSlow 429 TooManyRequests, ErrClosed 503
// ServiceUnavailable, a *StatusError its own Status, anything else 500
// InternalError. The message is err's text.
func StatusFor(err error) Status {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	s := Status{Kind: "Status", APIVersion: "v1", Status: "Failure"}
	if err == nil {
		err = ErrClosed
	}
	s.Message = err.Error()
	switch {
	case errors.Is(err, ErrGone):
		s.Reason, s.Code = StatusReasonExpired, http.StatusGone
	case errors.Is(err, ErrTooSlow):
		s.Reason, s.Code = StatusReasonTooManyRequests, http.StatusTooManyRequests
	case errors.Is(err, ErrClosed):
		s.Reason, s.Code = StatusReasonServiceUnavailable, http.StatusServiceUnavailable
	default:
		s.Reason, s.Code = StatusReasonInternalError, http.StatusInternalServerError
	}
	return s
}

// StatusError is the error of a decoded ERROR event. It unwraps to the
// matching sentinel: ErrGone for code 410, ErrTooSlow for 429
// TooManyRequests, ErrClosed for 503, none otherwise.
type StatusError struct {
	// Status is the decoded Status object.
	Status Status
}

// Error implements the error interface.
func (e *StatusError) Error() string {
	msg := e.Status.Message
	if msg == "" {
		msg = "(no message)"
	}
	if e.Status.Reason != "" {
		return "watch: server error " + e.Status.Reason + ": " + msg
	}
	return "watch: server error: " + msg
}

// Unwrap returns the sentinel the status maps to, or nil.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Status.Code == http.StatusGone:
		return ErrGone
	case e.Status.Code == http.StatusTooManyRequests && e.Status.Reason == StatusReasonTooManyRequests:
		return ErrTooSlow
	case e.Status.Code == http.StatusServiceUnavailable:
		return ErrClosed
	}
	return nil
}
