package rest

import (
	"cmp"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/store/rest/table"
	"github.com/setpoint-dev/setpoint/watch"
)

// format is a wire encoding the handler speaks.
type format int

const (
	formatJSON format = iota
	formatProtobuf
)

func (f format) mediaType() string {
	if f == formatProtobuf {
		return watch.MediaTypeProtobuf
	}
	return watch.MediaTypeJSON
}

// output is how a response is encoded, as the Accept header chose it.
type output struct {
	format format
	// table is the apiVersion of the meta.k8s.io Table to render instead
	// of the objects ("meta.k8s.io/v1" or "meta.k8s.io/v1beta1"), or "".
	table string
}

// acceptClause is one media range of an Accept header.
type acceptClause struct {
	typ, sub string
	q        float64
	params   map[string]string
}

// parseAccept parses an Accept header leniently, as Kubernetes does
// (entries it cannot read are skipped), and orders the clauses by quality,
// most specific first among equals, keeping the client's order otherwise.
// Clauses with q=0 are dropped: the client refuses those types (RFC 9110).
func parseAccept(header string) []acceptClause {
	var out []acceptClause
	for part := range strings.SplitSeq(header, ",") {
		fields := strings.Split(part, ";")
		typ, sub, ok := strings.Cut(strings.TrimSpace(fields[0]), "/")
		typ, sub = strings.TrimSpace(typ), strings.TrimSpace(sub)
		switch {
		case !ok && typ == "*":
			sub = "*"
		case !ok, typ == "", sub == "", strings.Contains(sub, "/"):
			continue
		}
		c := acceptClause{typ: strings.ToLower(typ), sub: strings.ToLower(sub), q: 1}
		for _, p := range fields[1:] {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
			if k == "q" {
				q, err := strconv.ParseFloat(v, 64)
				if err != nil || q < 0 || q > 1 {
					q = 1
				}
				c.q = q
				continue
			}
			if c.params == nil {
				c.params = map[string]string{}
			}
			c.params[k] = v
		}
		if c.q > 0 {
			out = append(out, c)
		}
	}
	specificity := func(c acceptClause) int {
		switch {
		case c.typ == "*":
			return 0
		case c.sub == "*":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b acceptClause) int {
		if a.q != b.q {
			return cmp.Compare(b.q, a.q)
		}
		return cmp.Compare(specificity(b), specificity(a))
	})
	return out
}

// Conversion is what a media type's as, g and v parameters ask for: the
// response as another kind, such as a meta.k8s.io/v1 Table or an
// apidiscovery.k8s.io/v2 APIGroupDiscoveryList.
type Conversion struct {
	Group, Version, Kind string
}

// Offer is what an endpoint can answer with, for Negotiate.
type Offer struct {
	// Protobuf offers Kubernetes' protobuf encoding besides JSON.
	Protobuf bool
	// Stream marks a watch: the 406 message names the stream media types.
	Stream bool
	// Convert reports whether the endpoint can answer a clause that asks
	// for conversion c in mediaType. nil: no conversion is offered.
	Convert func(mediaType string, c Conversion) bool
}

// Negotiated is the response encoding Negotiate chose.
type Negotiated struct {
	// MediaType is watch.MediaTypeJSON or watch.MediaTypeProtobuf.
	MediaType string
	// Convert is the conversion the chosen clause asked for, if any.
	Convert *Conversion
}

// Negotiate picks the response encoding from an Accept header exactly as
// Kubernetes' apiserver does: an empty header means JSON; otherwise the
// first clause (by quality, more specific first among equals, then in the
// client's order) that an offered media type matches (also through type/*
// and */*) with parameters the endpoint allows wins, JSON before protobuf
// for a wildcard. A clause asking for a conversion (as, g, v) is allowed
// only where o.Convert allows it; stream must be empty or "watch"; sv must
// be empty; other parameters are ignored. Clauses with q=0 are refused
// types and never match (RFC 9110; Kubernetes ignores q=0). No match is a
// 406 Status error naming the media types offered.
func Negotiate(accept string, o Offer) (Negotiated, error) {
	if strings.TrimSpace(accept) == "" {
		return Negotiated{MediaType: watch.MediaTypeJSON}, nil
	}
	offered := []string{watch.MediaTypeJSON}
	if o.Protobuf {
		offered = append(offered, watch.MediaTypeProtobuf)
	}
	for _, c := range parseAccept(accept) {
		for _, mt := range offered {
			typ, sub, _ := strings.Cut(mt, "/")
			if !(c.typ == "*" && c.sub == "*" || c.typ == typ && (c.sub == "*" || c.sub == sub)) {
				continue
			}
			if n, ok := acceptParams(c.params, mt, o); ok {
				return n, nil
			}
		}
	}
	names := offered
	if o.Stream {
		names = nil
		for _, mt := range offered {
			names = append(names, mt+";stream=watch")
		}
	}
	return Negotiated{}, watch.NewStatusError(http.StatusNotAcceptable, watch.StatusReasonNotAcceptable,
		"only the following media types are accepted: "+strings.Join(names, ", "))
}

// acceptParams reports whether a clause's parameters can be honoured in
// mediaType, and the answer they ask for.
func acceptParams(params map[string]string, mediaType string, o Offer) (Negotiated, bool) {
	n := Negotiated{MediaType: mediaType}
	as, g, v := params["as"], params["g"], params["v"]
	if as != "" || g != "" || v != "" {
		c := Conversion{Group: g, Version: v, Kind: as}
		if o.Convert == nil || !o.Convert(mediaType, c) {
			return Negotiated{}, false
		}
		n.Convert = &c
	}
	if s := params["stream"]; s != "" && s != "watch" {
		return Negotiated{}, false
	}
	if params["sv"] != "" {
		return Negotiated{}, false
	}
	return n, true
}

// negotiation is what a resource endpoint can answer with.
type negotiation struct {
	protobuf bool // protobuf is offered besides JSON
	tables   bool // a meta.k8s.io Table may be asked for (as=Table)
	stream   bool // a watch
}

// tableConversion allows a meta.k8s.io Table (v1 or v1beta1) in JSON, as
// Kubernetes does.
func tableConversion(mediaType string, c Conversion) bool {
	return mediaType == watch.MediaTypeJSON && c.Kind == table.Kind && c.Group == "meta.k8s.io" && (c.Version == "v1" || c.Version == "v1beta1")
}

// negotiate is Negotiate for a resource endpoint.
func negotiate(accept string, n negotiation) (output, error) {
	o := Offer{Protobuf: n.protobuf, Stream: n.stream}
	if n.tables {
		o.Convert = tableConversion
	}
	got, err := Negotiate(accept, o)
	if err != nil {
		return output{}, err
	}
	out := output{format: formatJSON}
	if got.MediaType == watch.MediaTypeProtobuf {
		out.format = formatProtobuf
	}
	if got.Convert != nil {
		out.table = got.Convert.Group + "/" + got.Convert.Version
	}
	return out, nil
}

// inputFormat returns the encoding of a request body from its
// Content-Type: JSON when there is none, as Kubernetes does; protobuf only
// where protobuf is offered; anything else is a 415 naming what is
// accepted.
func inputFormat(r *http.Request, protobuf bool) (format, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case mt == watch.MediaTypeJSON:
		return formatJSON, nil
	case mt == watch.MediaTypeProtobuf && protobuf:
		return formatProtobuf, nil
	}
	accepted := watch.MediaTypeJSON
	if protobuf {
		accepted += ", " + watch.MediaTypeProtobuf
	}
	return formatJSON, watch.NewStatusError(http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType,
		fmt.Sprintf("the body of the request was in an unknown format %q - accepted media types include: %s", ct, accepted))
}
