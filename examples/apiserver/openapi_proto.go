package apiserver

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
)

// The media types of the OpenAPI documents in protobuf (gnostic's
// OpenAPIv2 and OpenAPIv3 Document messages), with the other spelling
// Kubernetes serves; kubectl asks for the first v2 one.
const (
	openAPIV2Protobuf    = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	openAPIV2ProtobufAlt = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	openAPIV3Protobuf    = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	openAPIV3ProtobufAlt = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
)

// openAPIToProtobuf converts a served OpenAPI JSON document (v2 or v3, as
// parse reads it) into gnostic's protobuf form, so that both encodings say
// the same thing.
func openAPIToProtobuf[D proto.Message](doc []byte, parse func([]byte) (D, error)) ([]byte, error) {
	d, err := parse(doc)
	if err != nil {
		return nil, fmt.Errorf("parsing an OpenAPI document: %w", err)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding an OpenAPI document: %w", err)
	}
	return b, nil
}

// openAPIMediaType picks the answer to an Accept header for an OpenAPI
// document among JSON and the protobuf types pb: the clause with the
// highest quality (the client's order among equals) that names one,
// directly or through application/* or */* (JSON then); q=0 refuses. An
// empty header is JSON. ok is false when nothing offered is acceptable
// (406).
func openAPIMediaType(accept string, pb ...string) (mediaType string, ok bool) {
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
		}
		if slices.Contains(pb, c.mt) {
			return c.mt, true
		}
	}
	return "", false
}
