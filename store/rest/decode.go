package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	sigsjson "sigs.k8s.io/json"
)

// Values of the fieldValidation query parameter, as Kubernetes names them.
const (
	// FieldValidationStrict: an unknown or duplicate field fails the
	// request with 400 naming every such field.
	FieldValidationStrict = "Strict"
	// FieldValidationWarn (the default): the request succeeds, unknown
	// fields are dropped, and each unknown or duplicate field is reported
	// in a Warning response header.
	FieldValidationWarn = "Warn"
	// FieldValidationIgnore: unknown fields are dropped silently.
	FieldValidationIgnore = "Ignore"
)

// fieldValidation returns the request's fieldValidation directive (Warn
// when absent); any other value is a 400 naming the supported ones.
func fieldValidation(r *http.Request) (string, error) {
	v := r.URL.Query().Get("fieldValidation")
	switch v {
	case "":
		return FieldValidationWarn, nil
	case FieldValidationStrict, FieldValidationWarn, FieldValidationIgnore:
		return v, nil
	}
	return "", badRequest("invalid fieldValidation %q: supported values: %q, %q, %q", v, FieldValidationIgnore, FieldValidationWarn, FieldValidationStrict)
}

// decodeStrictly decodes JSON data into v the way Kubernetes does: field
// names match case-sensitively (a key that differs only in case is an
// unknown field), and unknown and duplicate fields are handled as
// directive says. It returns the warnings to send (Warn) or an error
// naming every such field (Strict); a malformed document is an error too.
func decodeStrictly(data []byte, v any, directive string) ([]string, error) {
	strict, err := sigsjson.UnmarshalStrict(data, v)
	if err != nil {
		return nil, err
	}
	if len(strict) == 0 || directive == FieldValidationIgnore {
		return nil, nil
	}
	msgs := make([]string, len(strict))
	for i, e := range strict {
		msgs[i] = e.Error()
	}
	if directive == FieldValidationStrict {
		return nil, &strictDecodingError{msgs: msgs}
	}
	return msgs, nil
}

// strictDecodingError lists the unknown and duplicate fields of a request
// made with fieldValidation=Strict.
type strictDecodingError struct{ msgs []string }

func (e *strictDecodingError) Error() string {
	return "strict decoding error: " + strings.Join(e.msgs, ", ")
}

// isStrictDecodingError reports whether err lists unknown or duplicate
// fields.
func isStrictDecodingError(err error) bool {
	var s *strictDecodingError
	return errors.As(err, &s)
}

// addWarning adds a Warning header as Kubernetes writes them (code 299,
// the text quoted), once per distinct text.
func addWarning(w http.ResponseWriter, text string) {
	v := fmt.Sprintf("299 - %s", strconv.Quote(text))
	for _, have := range w.Header().Values("Warning") {
		if have == v {
			return
		}
	}
	w.Header().Add("Warning", v)
}
