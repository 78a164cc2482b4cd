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

// ErrorStatus maps err to the Status an apiserver answers (watch.Status, the
// one Kubernetes Status type): a *watch.StatusError as is; store.ErrNotFound
// 404, ErrAlreadyExists 409 AlreadyExists, ErrConflict 409 Conflict,
// ErrFenced 409 Fenced, ErrTooLarge 413, ErrInvalid 422 Invalid (one cause
// per field error), a patch error 422 (415 for an unknown patch type), and
// what watch.StatusFor gives for the rest (ErrGone 410 Expired, ErrTooSlow
// 429, ErrClosed 503, a context deadline 504, anything else 500). kind,
// group and name fill the details.
func ErrorStatus(err error, kind, group, name string) *watch.Status {
	var se *watch.StatusError
	if errors.As(err, &se) {
		st := se.Status
		return &st
	}
	var code int
	var reason string
	switch {
	case errors.Is(err, store.ErrNotFound):
		code, reason = http.StatusNotFound, watch.StatusReasonNotFound
	case errors.Is(err, store.ErrAlreadyExists):
		code, reason = http.StatusConflict, watch.StatusReasonAlreadyExists
	case errors.Is(err, store.ErrFenced):
		code, reason = http.StatusConflict, watch.StatusReasonFenced
	case errors.Is(err, store.ErrConflict):
		code, reason = http.StatusConflict, watch.StatusReasonConflict
	case errors.Is(err, store.ErrTooLarge):
		code, reason = http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge
	case errors.Is(err, patch.ErrUnsupportedType):
		code, reason = http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType
	case errors.Is(err, store.ErrInvalid), errors.Is(err, patch.ErrInvalidPatch):
		code, reason = http.StatusUnprocessableEntity, watch.StatusReasonInvalid
	case errors.Is(err, context.DeadlineExceeded):
		code, reason = http.StatusGatewayTimeout, watch.StatusReasonTimeout
	default:
		st := watch.StatusFor(err)
		code, reason = int(st.Code), st.Reason
	}
	s := watch.NewStatus(code, reason, err.Error())
	if reason == watch.StatusReasonFenced {
		// Never echo what the backend found at a fence key (whether it
		// exists, its revision): the caller may not be allowed to read it.
		what := kind
		if name != "" {
			what = fmt.Sprintf("%s %q", kind, name)
		}
		s.Message = fmt.Sprintf("Operation cannot be fulfilled on %s: a fence (%s) no longer holds: the writer's term is over", what, FenceHeader)
	}
	if kind != "" || name != "" {
		s.Details = &watch.StatusDetails{Name: name, Group: group, Kind: kind}
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
				s.Details = &watch.StatusDetails{}
			}
			for _, f := range fes {
				s.Details.Causes = append(s.Details.Causes, watch.StatusCause{Type: "FieldValueInvalid", Message: f.Reason, Field: f.Field})
			}
			s.Message = fmt.Sprintf("%s %q is invalid: %s", kind, name, fes.Error())
		}
	}
	return s
}

// writeStatus answers with s as JSON and s.Code as the HTTP status.
func writeStatus(w http.ResponseWriter, s *watch.Status) {
	writeJSON(w, int(s.Code), s)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(watch.NewStatus(code, watch.StatusReasonInternalError, "encoding response: "+err.Error()))
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
	return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, fmt.Sprintf(format, args...))
}
