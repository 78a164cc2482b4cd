package patch

import "fmt"

// Type is a patch format, named by its HTTP Content-Type.
type Type string

// The patch types an apiserver accepts.
const (
	// JSONPatchType is RFC 6902.
	JSONPatchType Type = "application/json-patch+json"
	// MergePatchType is RFC 7386.
	MergePatchType Type = "application/merge-patch+json"
	// StrategicMergePatchType is Kubernetes' strategic merge patch.
	StrategicMergePatchType Type = "application/strategic-merge-patch+json"
	// ApplyPatchType is a server-side apply configuration (YAML or JSON).
	// Apply does not merge it: the REST handler's field manager does.
	ApplyPatchType Type = "application/apply-patch+yaml"
)

// ErrUnsupportedType is returned by Apply for a content type it does not
// know (an apiserver answers 415). It wraps ErrInvalidPatch.
var ErrUnsupportedType = fmt.Errorf("%w: unsupported patch type", ErrInvalidPatch)

// ParseType checks a Content-Type value (parameters such as
// "; charset=utf-8" are ignored).
func ParseType(contentType string) (Type, error) {
	ct := contentType
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	for len(ct) > 0 && (ct[len(ct)-1] == ' ' || ct[len(ct)-1] == '\t') {
		ct = ct[:len(ct)-1]
	}
	switch t := Type(ct); t {
	case JSONPatchType, MergePatchType, StrategicMergePatchType, ApplyPatchType:
		return t, nil
	}
	return "", fmt.Errorf("%w %q: use %s, %s, %s or %s", ErrUnsupportedType, contentType, JSONPatchType, MergePatchType, StrategicMergePatchType, ApplyPatchType)
}

// Apply applies a patch of type t to doc. schema is used by strategic merge
// patch only (nil treats every list as replaced, like a merge patch); opts
// by JSON patch only (merge patches cannot grow a document by more than
// their own size).
func Apply(t Type, doc, patch []byte, schema *Schema, opts ...Option) ([]byte, error) {
	switch t {
	case JSONPatchType:
		return JSONPatch(doc, patch, opts...)
	case MergePatchType:
		return MergePatch(doc, patch)
	case StrategicMergePatchType:
		return StrategicMergePatch(doc, patch, schema)
	case ApplyPatchType:
		return nil, fmt.Errorf("%w %q: server-side apply needs a field manager (store/rest/fieldmanager)", ErrUnsupportedType, t)
	}
	_, err := ParseType(string(t))
	return nil, err
}
