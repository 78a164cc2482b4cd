package api

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// Reasons of a StatusCause, as Kubernetes names them.
const (
	CauseRequired     = "FieldValueRequired"
	CauseInvalid      = "FieldValueInvalid"
	CauseNotSupported = "FieldValueNotSupported"
	CauseDuplicate    = "FieldValueDuplicate"
	CauseForbidden    = "FieldValueForbidden"
	CauseNotFound     = "FieldValueNotFound"
	CauseTooLong      = "FieldValueTooLong"
)

var causePrefixes = []struct{ prefix, cause string }{
	{"Required value", CauseRequired},
	{"Unsupported value", CauseNotSupported},
	{"Duplicate value", CauseDuplicate},
	{"Forbidden", CauseForbidden},
	{"Not found", CauseNotFound},
	{"Too long", CauseTooLong},
	{"Invalid value", CauseInvalid},
}

// FieldErrorText formats one field error the way Kubernetes prints it:
// `spec.replicas: Invalid value: "-1": must be greater than or equal to 0`.
func FieldErrorText(e *store.FieldError) string {
	reason := e.Reason
	if e.Value != "" {
		if rest, ok := strings.CutPrefix(reason, "Invalid value: "); ok {
			return fmt.Sprintf("%s: Invalid value: %q: %s", e.Field, e.Value, rest)
		}
		if rest, ok := strings.CutPrefix(reason, "Unsupported value: "); ok {
			return fmt.Sprintf("%s: Unsupported value: %q: %s", e.Field, e.Value, rest)
		}
	}
	return e.Field + ": " + reason
}

// InvalidStatus is the 422 Status an apiserver returns for an object that
// failed validation: reason "Invalid", a message such as
// `Pod "web" is invalid: spec.containers[0].image: Required value: ...`,
// and one cause per field error.
func InvalidStatus(r Resource, name string, errs store.FieldErrors) *Status {
	texts := make([]string, len(errs))
	causes := make([]StatusCause, len(errs))
	for i, e := range errs {
		texts[i] = FieldErrorText(e)
		cause := CauseInvalid
		for _, p := range causePrefixes {
			if strings.HasPrefix(e.Reason, p.prefix) {
				cause = p.cause
				break
			}
		}
		causes[i] = StatusCause{Type: cause, Message: strings.TrimPrefix(texts[i], e.Field+": "), Field: e.Field}
	}
	msg := strings.Join(texts, ", ")
	if len(texts) > 1 {
		msg = "[" + msg + "]"
	}
	s := NewStatus(422, "Invalid", fmt.Sprintf("%s %q is invalid: %s", r.Kind, name, msg))
	group, _ := GroupVersion(r)
	s.Details = &StatusDetails{Name: name, Group: group, Kind: r.Kind, Causes: causes}
	return s
}

// qualifiedResource is "pods" or "deployments.apps", as Kubernetes names a
// resource in messages.
func qualifiedResource(r Resource) string {
	if g := groupOf(r); g != "" {
		return r.Name + "." + g
	}
	return r.Name
}

// ErrorStatus turns an error from the store, a patch, a selector or
// validation into the Status an apiserver returns, with Kubernetes' codes,
// reasons and messages:
//
//	store.ErrNotFound           404 NotFound       pods "web" not found
//	store.ErrAlreadyExists      409 AlreadyExists  pods "web" already exists
//	store.ErrConflict, ErrFenced 409 Conflict      Operation cannot be fulfilled on pods "web": ...
//	store.ErrGone               410 Expired
//	store.ErrTooLarge           413 RequestEntityTooLarge
//	store.FieldErrors           422 Invalid (InvalidStatus, with causes)
//	patch.ErrTestFailed         422 Invalid
//	patch.ErrUnsupportedType    415 UnsupportedMediaType
//	patch.ErrInvalidPatch,
//	store.ErrInvalid (others)   400 BadRequest
//	ErrQuotaExceeded            403 Forbidden
//	context deadline            504 Timeout
//	anything else               500 InternalError
//
// r and name say what the request was about (name may be empty).
func ErrorStatus(err error, r Resource, name string) *Status {
	if err == nil {
		return NewStatus(200, "", "")
	}
	qr := qualifiedResource(r)
	group := groupOf(r)
	details := &StatusDetails{Name: name, Group: group, Kind: r.Name}
	with := func(s *Status) *Status {
		if name != "" || s.Code == 404 || s.Code == 409 {
			s.Details = details
		}
		return s
	}
	var fe store.FieldErrors
	var one *store.FieldError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return with(NewStatus(404, "NotFound", fmt.Sprintf("%s %q not found", qr, name)))
	case errors.Is(err, store.ErrAlreadyExists):
		return with(NewStatus(409, "AlreadyExists", fmt.Sprintf("%s %q already exists", qr, name)))
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrFenced):
		return with(NewStatus(409, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on %s %q: %v", qr, name, err)))
	case errors.Is(err, store.ErrGone):
		return NewStatus(410, "Expired", err.Error())
	case errors.Is(err, store.ErrTooLarge):
		return NewStatus(413, "RequestEntityTooLarge", err.Error())
	case errors.As(err, &fe):
		return InvalidStatus(r, name, fe)
	case errors.Is(err, patch.ErrTestFailed):
		return with(NewStatus(422, "Invalid", err.Error()))
	case errors.Is(err, patch.ErrUnsupportedType):
		return NewStatus(415, "UnsupportedMediaType", err.Error())
	case errors.Is(err, ErrQuotaExceeded):
		return with(NewStatus(403, "Forbidden", fmt.Sprintf("%s %q is forbidden: %v", qr, name, err)))
	case errors.As(err, &one) && errors.Is(err, store.ErrInvalid):
		return InvalidStatus(r, name, store.FieldErrors{one})
	case errors.Is(err, patch.ErrInvalidPatch), errors.Is(err, store.ErrInvalid):
		return NewStatus(400, "BadRequest", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return NewStatus(504, "Timeout", err.Error())
	}
	return NewStatus(500, "InternalError", "Internal error occurred: "+err.Error())
}
