package apiserver

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// The media types of the OpenAPI v2 document in protobuf (gnostic's
// OpenAPIv2 Document message), both spellings Kubernetes serves; kubectl
// asks for the first.
const (
	openAPIV2Protobuf    = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	openAPIV2ProtobufAlt = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
)

// openAPIV2ToProtobuf converts the served OpenAPI v2 JSON document into
// gnostic's protobuf form, so that both encodings say the same thing.
func openAPIV2ToProtobuf(doc []byte) ([]byte, error) {
	d, err := openapiv2.ParseDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing the OpenAPI v2 document: %w", err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI v2 document: %w", err)
	}
	return b, nil
}

// openAPIV2MediaType picks the answer to an Accept header for /openapi/v2
// among JSON and the protobuf types: the clause with the highest quality
// (the client's order among equals) that names one, directly or through
// application/* or */* (JSON then); q=0 refuses. An empty header is
// JSON. ok is false when nothing offered is acceptable (406).
func openAPIV2MediaType(accept string) (mediaType string, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return "application/json", true
	}
	type clause struct {
		mt string
		q  float64
	}
	var cs []clause
	for _, part := range strings.Split(accept, ",") {
		// Split by hand: "@" in the protobuf type is not a valid token
		// character for mime.ParseMediaType.
		mt, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.TrimSpace(k) == "q" {
				var err error
				if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
					q = 0
				}
			}
		}
		if q > 0 {
			cs = append(cs, clause{strings.ToLower(strings.TrimSpace(mt)), q})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	for _, c := range cs {
		switch c.mt {
		case "application/json", "application/*", "*/*":
			return "application/json", true
		case openAPIV2Protobuf, openAPIV2ProtobufAlt:
			return c.mt, true
		}
	}
	return "", false
}
