package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/watch"
)

// Status reasons, the same strings as Kubernetes' metav1.StatusReason.
const (
	ReasonBadRequest            = "BadRequest"
	ReasonUnauthorized          = "Unauthorized"
	ReasonForbidden             = "Forbidden"
	ReasonNotFound              = "NotFound"
	ReasonAlreadyExists         = "AlreadyExists"
	ReasonConflict              = "Conflict"
	ReasonGone                  = "Gone"
	ReasonExpired               = "Expired"
	ReasonInvalid               = "Invalid"
	ReasonRequestEntityTooLarge = "RequestEntityTooLarge"
	ReasonTooManyRequests       = "TooManyRequests"
	ReasonMethodNotAllowed      = "MethodNotAllowed"
	ReasonUnsupportedMediaType  = "UnsupportedMediaType"
	ReasonNotAcceptable         = "NotAcceptable"
	ReasonInternalError         = "InternalError"
	ReasonServiceUnavailable    = "ServiceUnavailable"
	ReasonTimeout               = "Timeout"
	// ReasonFenced (code 409) is setpoint's: a write's fence (see
	// FenceHeader) no longer held. Clients map it to store.ErrFenced.
	ReasonFenced = "Fenced"
)

// Status is the Kubernetes Status object (v1) that every error response
// carries, and that some successful deletes return.
type Status struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Details    *StatusDetails `json:"details,omitempty"`
	Code       int32          `json:"code"`
}

// StatusDetails names the object an error is about and, for 422, the
// invalid fields.
type StatusDetails struct {
	Name   string        `json:"name,omitempty"`
	Group  string        `json:"group,omitempty"`
	Kind   string        `json:"kind,omitempty"`
	UID    string        `json:"uid,omitempty"`
	Causes []StatusCause `json:"causes,omitempty"`
}

// StatusCause is one invalid field of a 422 Status.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// NewStatus returns a Failure status.
func NewStatus(code int, reason, message string) *Status {
	return &Status{Kind: "Status", APIVersion: "v1", Status: "Failure", Code: int32(code), Reason: reason, Message: message}
}

// StatusError is an error that is answered with its Status as is. Hooks
// (admission, authorization) return one to choose the code, for example
// NewStatusError(403, ReasonForbidden, "...").
type StatusError struct {
	Status *Status
	// Err, if set, is what the error wraps (for errors.Is).
	Err error
}

// NewStatusError returns a *StatusError with a Failure status.
func NewStatusError(code int, reason, message string) *StatusError {
	return &StatusError{Status: NewStatus(code, reason, message)}
}

// Error implements the error interface.
func (e *StatusError) Error() string { return e.Status.Message }

// Unwrap returns Err.
func (e *StatusError) Unwrap() error { return e.Err }

// ErrorStatus maps err to the Status an apiserver answers: a *StatusError
// as is; store.ErrNotFound 404, ErrAlreadyExists 409 AlreadyExists,
// ErrConflict 409 Conflict, ErrFenced 409 Fenced, ErrTooLarge 413,
// ErrInvalid 422 Invalid (one cause per field error), ErrGone 410 Expired,
// a context deadline 504 Timeout,
// watch.ErrTooSlow 429, a patch error 422 (415 for an unknown patch type),
// anything else 500. kind and name fill the details.
func ErrorStatus(err error, kind, group, name string) *Status {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	var code int
	var reason string
	switch {
	case errors.Is(err, store.ErrNotFound):
		code, reason = http.StatusNotFound, ReasonNotFound
	case errors.Is(err, store.ErrAlreadyExists):
		code, reason = http.StatusConflict, ReasonAlreadyExists
	case errors.Is(err, store.ErrFenced):
		code, reason = http.StatusConflict, ReasonFenced
	case errors.Is(err, store.ErrConflict):
		code, reason = http.StatusConflict, ReasonConflict
	case errors.Is(err, store.ErrTooLarge):
		code, reason = http.StatusRequestEntityTooLarge, ReasonRequestEntityTooLarge
	case errors.Is(err, patch.ErrUnsupportedType):
		code, reason = http.StatusUnsupportedMediaType, ReasonUnsupportedMediaType
	case errors.Is(err, store.ErrInvalid), errors.Is(err, patch.ErrInvalidPatch):
		code, reason = http.StatusUnprocessableEntity, ReasonInvalid
	case errors.Is(err, store.ErrGone):
		code, reason = http.StatusGone, ReasonExpired
	case errors.Is(err, watch.ErrTooSlow):
		code, reason = http.StatusTooManyRequests, ReasonTooManyRequests
	case errors.Is(err, context.DeadlineExceeded):
		code, reason = http.StatusGatewayTimeout, ReasonTimeout
	case errors.Is(err, watch.ErrClosed):
		code, reason = http.StatusServiceUnavailable, ReasonServiceUnavailable
	default:
		code, reason = http.StatusInternalServerError, ReasonInternalError
	}
	s := NewStatus(code, reason, err.Error())
	if reason == ReasonFenced {
		// Never echo what the backend found at a fence key (whether it
		// exists, its revision): the caller may not be allowed to read it.
		what := kind
		if name != "" {
			what = fmt.Sprintf("%s %q", kind, name)
		}
		s.Message = fmt.Sprintf("Operation cannot be fulfilled on %s: a fence (%s) no longer holds: the writer's term is over", what, FenceHeader)
	}
	if kind != "" || name != "" {
		s.Details = &StatusDetails{Name: name, Group: group, Kind: kind}
	}
	if code == http.StatusUnprocessableEntity {
		var fes store.FieldErrors
		var fe *store.FieldError
		switch {
		case errors.As(err, &fes):
		case errors.As(err, &fe):
			fes = store.FieldErrors{fe}
		}
		if len(fes) > 0 {
			if s.Details == nil {
				s.Details = &StatusDetails{}
			}
			for _, f := range fes {
				s.Details.Causes = append(s.Details.Causes, StatusCause{Type: "FieldValueInvalid", Message: f.Reason, Field: f.Field})
			}
			s.Message = fmt.Sprintf("%s %q is invalid: %s", kind, name, fes.Error())
		}
	}
	return s
}

// writeStatus answers with s as JSON and s.Code as the HTTP status.
func writeStatus(w http.ResponseWriter, s *Status) {
	writeJSON(w, int(s.Code), s)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(NewStatus(code, ReasonInternalError, "encoding response: "+err.Error()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// WriteError answers with the Status ErrorStatus gives for err.
func WriteError(w http.ResponseWriter, err error) {
	writeStatus(w, ErrorStatus(err, "", "", ""))
}

// badRequest is a 400 error.
func badRequest(format string, args ...any) error {
	return NewStatusError(http.StatusBadRequest, ReasonBadRequest, fmt.Sprintf(format, args...))
}
