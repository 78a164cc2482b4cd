package store

import (
	"errors"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	ce := &ConflictError{Key: "/k", Expected: 3, Current: 5}
	if !errors.Is(ce, ErrConflict) || !strings.Contains(ce.Error(), "/k") || !strings.Contains(ce.Error(), "5") {
		t.Errorf("ConflictError %q", ce)
	}
	fe := &FieldError{Field: "metadata.name", Value: "X", Reason: "bad"}
	if !errors.Is(fe, ErrInvalid) || fe.Error() != `invalid: metadata.name "X": bad` {
		t.Errorf("FieldError %q", fe)
	}
	l := FieldErrors{fe, {Field: "spec.x", Reason: "worse"}}
	if !errors.Is(l, ErrInvalid) || !strings.Contains(l.Error(), "spec.x: worse") {
		t.Errorf("FieldErrors %q", l)
	}
	if (FieldErrors{}).ErrOrNil() != nil || l.ErrOrNil() == nil {
		t.Error("ErrOrNil")
	}
	if !errors.Is(ErrGone, ErrGone) || ErrGone.Error() == "" {
		t.Error("ErrGone")
	}
	var tl error = tooLarge{}
	if !errors.Is(tl, ErrTooLarge) || !errors.Is(tl, ErrInvalid) {
		t.Error("tooLarge must wrap ErrTooLarge and ErrInvalid")
	}
}
