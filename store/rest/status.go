package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/watch"
)

// ErrorStatus maps err to the Status an apiserver answers (watch.Status, the
// one Kubernetes Status type): a *watch.StatusError as is; store.ErrNotFound
// 404, ErrAlreadyExists 409 AlreadyExists, ErrConflict 409 Conflict,
// ErrFenced 409 Fenced, ErrTooLarge 413, ErrNoSpace 507 (storage full:
// never 500), ErrInvalid 422 Invalid (one cause
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
	case errors.Is(err, store.ErrNoSpace):
		code, reason = http.StatusInsufficientStorage, watch.StatusReasonServiceUnavailable
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
			texts := make([]string, len(fes))
			for i, f := range fes {
				typ, body := fieldErrorBody(f)
				s.Details.Causes = append(s.Details.Causes, watch.StatusCause{Type: typ, Message: body, Field: f.Field})
				texts[i] = f.Field + ": " + body
			}
			what := kind
			if group != "" {
				what += "." + group
			}
			list := texts[0]
			if len(texts) > 1 {
				list = "[" + strings.Join(texts, ", ") + "]"
			}
			s.Message = fmt.Sprintf("%s %q is invalid: %s", what, name, list)
		}
	}
	return s
}

// ResourceErrorStatus is ErrorStatus for a request about an object of res
// named name ("" for a collection), worded as Kubernetes words it: a
// missing object is `pods "web" not found` or `deployments.apps "web" not
// found` (never a storage key), an existing one `... already exists`, a
// lost compare-and-swap `Operation cannot be fulfilled on pods "web": ...`
// (with Kubernetes' "Precondition failed: ..." for a delete precondition),
// and an invalid one `Deployment.apps "web" is invalid: ...`. Details name
// the resource (for not found, already exists and conflicts, the plural, as
// Kubernetes does) or the kind, the group and the object; a Status a hook
// returned without details gets them.
func ResourceErrorStatus(err error, res store.Resource, name string) *watch.Status {
	group, _, _ := strings.Cut(res.APIVersion, "/")
	if !strings.Contains(res.APIVersion, "/") {
		group = ""
	}
	qualified := res.Name
	if group != "" {
		qualified += "." + group
	}
	var se *watch.StatusError
	if errors.As(err, &se) {
		st := se.Status
		if st.Details == nil && (name != "" || res.Kind != "") {
			st.Details = &watch.StatusDetails{Name: name, Group: group, Kind: res.Kind}
		}
		return &st
	}
	st := ErrorStatus(err, res.Kind, group, name)
	resourceDetails := func() { st.Details = &watch.StatusDetails{Name: name, Group: group, Kind: res.Name} }
	switch {
	case errors.Is(err, store.ErrNotFound):
		st.Message = fmt.Sprintf("%s %q not found", qualified, name)
		resourceDetails()
	case errors.Is(err, store.ErrAlreadyExists):
		st.Message = fmt.Sprintf("%s %q already exists", qualified, name)
		resourceDetails()
	case errors.Is(err, store.ErrFenced):
		resourceDetails()
	case errors.Is(err, store.ErrConflict):
		why := "the object has been modified; please apply your changes to the latest version and try again"
		if pe := (*store.PreconditionError)(nil); errors.As(err, &pe) {
			why = pe.Error()
		}
		st.Message = fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", qualified, name, why)
		resourceDetails()
	}
	return st
}

// fieldErrorBody returns the Kubernetes cause type of a field error
// (FieldValueInvalid, FieldValueRequired, ...) and its text as Kubernetes
// prints it after the field: `Invalid value: "Web": a lowercase RFC 1123
// ...`, `Required value`, `Unsupported value: "x": supported values: ...`.
// The registry writes Reason as "<Type>: <detail>" with the Kubernetes
// type names.
func fieldErrorBody(f *store.FieldError) (string, string) {
	typ, detail, _ := strings.Cut(f.Reason, ":")
	detail = strings.TrimSpace(detail)
	cause, withValue := "", false
	switch typ {
	case "Invalid value":
		cause, withValue = "FieldValueInvalid", true
	case "Required value":
		cause = "FieldValueRequired"
	case "Unsupported value":
		cause, withValue = "FieldValueNotSupported", true
	case "Duplicate value":
		cause, withValue = "FieldValueDuplicate", true
	case "Not found":
		cause, withValue = "FieldValueNotFound", true
	case "Forbidden":
		cause = "FieldValueForbidden"
	case "Too long":
		cause = "FieldValueTooLong"
	case "Too many":
		cause = "FieldValueTooMany"
	case "Internal error":
		cause = "InternalError"
	default:
		// a reason not in the Kubernetes form: an invalid value
		cause, withValue, typ, detail = "FieldValueInvalid", true, "Invalid value", f.Reason
	}
	body := typ
	if withValue && f.Value != "" {
		body += ": " + quoteValue(f.Value)
	}
	if detail != "" {
		body += ": " + detail
	}
	return cause, body
}

// quoteValue prints a value as Kubernetes does: numbers and booleans bare,
// anything else quoted.
func quoteValue(v string) string {
	if v == "true" || v == "false" {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXpPnNiI_") {
		return v
	}
	return strconv.Quote(v)
}

// writeStatus answers with s as JSON and s.Code as the HTTP status, and a
// Retry-After header when the details suggest one.
func writeStatus(w http.ResponseWriter, s *watch.Status) {
	if s.Details != nil && s.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.Details.RetryAfterSeconds)))
	}
	writeJSON(w, int(s.Code), s)
}

// WriteStatus answers with s, as the handler answers errors: JSON, s.Code
// as the HTTP status, and Retry-After when the details suggest one.
func WriteStatus(w http.ResponseWriter, s *watch.Status) { writeStatus(w, s) }

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
