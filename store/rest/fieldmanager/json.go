package fieldmanager

import (
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// DecodeJSON decodes one JSON value into the unstructured form a Manager
// works on: map[string]any, []any, string, bool, nil, and numbers as
// int64 when they are integers that fit, float64 otherwise (so that large
// integers keep every digit). It is patch.DecodeValue.
func DecodeJSON(data []byte) (any, error) {
	return patch.DecodeValue(data)
}
