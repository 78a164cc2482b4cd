package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/watch"
)

// DecodeBody reads the body of r, a request to a subresource a Handler
// does not serve itself (pods/binding, pods/eviction, namespaces/finalize,
// ...), and decodes it into obj (a pointer) as its Content-Type says: JSON
// (the default when none is given), or Kubernetes protobuf when obj has
// generated protobuf methods (Unmarshal([]byte) error), with the envelope;
// any other media type is 415 naming the accepted ones. The body is read
// through http.MaxBytesReader: more than limit bytes is 413, an empty or
// malformed body 400. The object's kind, when set (in the JSON or the
// envelope), must be kind, and its apiVersion, when set, one of
// apiVersions (400 naming both otherwise). Kubernetes decodes every
// subresource body with the same codecs as the resource itself; this is
// that rule for handlers outside Handler.
func DecodeBody(w http.ResponseWriter, r *http.Request, limit int64, obj any, kind string, apiVersions ...string) error {
	pb, hasProto := obj.(interface{ Unmarshal([]byte) error })
	f, err := inputFormat(r, hasProto)
	if err != nil {
		return err
	}
	data, err := readBody(w, r, limit, false)
	if err != nil {
		return err
	}
	check := func(gotKind, gotVersion string) error {
		if gotKind != "" && gotKind != kind {
			return badRequest("the object's kind %q does not match the expected kind %q", gotKind, kind)
		}
		if gotVersion != "" && len(apiVersions) > 0 && !slices.Contains(apiVersions, gotVersion) {
			return badRequest("the object's apiVersion %q does not match the expected %s", gotVersion, quoteList(apiVersions))
		}
		return nil
	}
	if f == formatProtobuf {
		env, err := watch.ParseEnvelope(data)
		if err != nil {
			return badRequest("decoding %s from protobuf: %v", kind, err)
		}
		if err := check(env.Kind, env.APIVersion); err != nil {
			return err
		}
		if err := checkEnvelopeEncoding(env); err != nil {
			return err
		}
		if err := pb.Unmarshal(env.Raw); err != nil {
			return badRequest("decoding %s from protobuf: %v", kind, err)
		}
		return nil
	}
	var tm struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(data, &tm); err != nil {
		return badRequest("decoding %s: %v", kind, err)
	}
	if err := check(tm.Kind, tm.APIVersion); err != nil {
		return err
	}
	if err := json.Unmarshal(data, obj); err != nil {
		return badRequest("decoding %s: %v", kind, err)
	}
	return nil
}

// checkEnvelopeEncoding refuses an envelope whose content is not plain
// protobuf.
func checkEnvelopeEncoding(env watch.Envelope) error {
	if env.ContentEncoding != "" {
		return badRequest("unsupported contentEncoding %q in the protobuf envelope", env.ContentEncoding)
	}
	if env.ContentType != "" && env.ContentType != watch.MediaTypeProtobuf {
		return badRequest("unsupported contentType %q in the protobuf envelope", env.ContentType)
	}
	return nil
}

// quoteList prints values as "a" or "a" or "b".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}
