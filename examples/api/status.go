package api

import (
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
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
