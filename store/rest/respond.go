package rest

import (
	"net/http"
	"strconv"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/watch"
)

// offers says what a request's endpoint can answer with: JSON, protobuf
// where T has a codec, and Tables (JSON only, as in Kubernetes).
func (h *Handler[T]) offers(info RequestInfo) negotiation {
	return negotiation{protobuf: h.proto != nil, tables: true, stream: info.Verb == "watch"}
}

// output returns the response encoding r's Accept header chose (serve
// has already answered 406 when there is none).
func (h *Handler[T]) output(r *http.Request, info RequestInfo) output {
	out, _ := negotiate(r.Header.Get("Accept"), h.offers(info))
	return out
}

// writeObject answers with obj in the negotiated encoding: JSON, protobuf,
// or a Table of the one object.
func (h *Handler[T]) writeObject(w http.ResponseWriter, r *http.Request, info RequestInfo, code int, obj T) error {
	out := h.output(r, info)
	switch {
	case out.table != "":
		return h.writeTable(w, r, out, code, []T{obj}, "", "")
	case out.format == formatProtobuf:
		b, err := h.marshalProtobuf(obj)
		if err != nil {
			return err
		}
		writeProtobuf(w, code, b)
	default:
		writeJSON(w, code, obj)
	}
	return nil
}

// writeList answers with a list of items (the resource's list kind) in
// the negotiated encoding, or a Table of them.
func (h *Handler[T]) writeList(w http.ResponseWriter, r *http.Request, info RequestInfo, items []T, rv, cont string) error {
	out := h.output(r, info)
	switch {
	case out.table != "":
		return h.writeTable(w, r, out, http.StatusOK, items, rv, cont)
	case out.format == formatProtobuf:
		l := newProtoList(h.proto, pbwire.ListMeta{ResourceVersion: rv, Continue: cont}, items)
		b, err := watch.MarshalEnvelope(h.res.APIVersion, h.cfg.ListKind, l)
		if err != nil {
			return err
		}
		writeProtobuf(w, http.StatusOK, b)
	default:
		if items == nil {
			items = []T{}
		}
		writeJSON(w, http.StatusOK, &wireList[T]{Kind: h.cfg.ListKind, APIVersion: h.res.APIVersion,
			Metadata: listMeta{ResourceVersion: rv, Continue: cont}, Items: items})
	}
	return nil
}

// writeTable renders objs as a Table of the apiVersion asked for.
func (h *Handler[T]) writeTable(w http.ResponseWriter, r *http.Request, out output, code int, objs []T, rv, cont string) error {
	opts, err := h.tableOptions(r, rv, cont)
	if err != nil {
		return err
	}
	t, err := h.table(objs, opts)
	if err != nil {
		return err
	}
	t.APIVersion = out.table
	writeJSON(w, code, t)
	return nil
}

// scaleProtobuf reports whether the strategy's Scale objects have a
// protobuf encoding.
func (h *Handler[T]) scaleProtobuf() bool {
	_, ok := h.rules.scale.Scale(h.newObject()).(watch.ProtoMessage)
	return ok
}

// writeScale answers with a Scale in the negotiated encoding.
func writeScale(w http.ResponseWriter, out output, scale any) error {
	if out.format == formatProtobuf {
		b, ok, err := marshalAnyProtobuf(scale, "autoscaling/v1", "Scale")
		if err != nil {
			return err
		}
		if ok {
			writeProtobuf(w, http.StatusOK, b)
			return nil
		}
	}
	writeJSON(w, http.StatusOK, scale)
	return nil
}

// writeStatusFor answers with s in the encoding r accepts (protobuf, where
// the resource speaks it, or JSON; JSON when it accepts neither, as
// Kubernetes answers errors), with s.Code as the HTTP status and
// Retry-After from its details.
func writeStatusFor(w http.ResponseWriter, r *http.Request, protobuf bool, s *watch.Status) {
	if d := s.Details; d != nil && d.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.RetryAfterSeconds)))
	}
	if out, err := negotiate(r.Header.Get("Accept"), negotiation{protobuf: protobuf}); err == nil && out.format == formatProtobuf {
		writeProtobuf(w, int(s.Code), s.MarshalProtobuf())
		return
	}
	writeJSON(w, int(s.Code), s)
}
