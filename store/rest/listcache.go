package rest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// listWriteBuffer is the size of the buffer a JSON list is written
// through.
const listWriteBuffer = 64 << 10

// cachedListOptions turns a list request's parameters into the watch
// cache's options (see store.WatchCache.List): resourceVersion "0" serves
// the cache's state at once; NotOlderThan (or a resourceVersion without
// match or limit) a state at least that new; Exact (or a resourceVersion
// with a limit) exactly that revision; no resourceVersion a consistent
// list; a continue token the token's revision.
func cachedListOptions(p listParams, snap listSnapshot, sel store.Selector, filter func(store.Object) bool) store.CachedListOptions {
	return store.CachedListOptions{
		ListOptions: store.ListOptions{Selector: sel, Filter: filter, Continue: p.cont, Limit: p.limit, Revision: snap.exact},
		AnyRevision: p.rvSet && p.rv == 0 && p.cont == "",
		MinRevision: snap.notOlderThan,
	}
}

// writeEncodedList answers with a list whose items carry their encodings:
// each item's JSON or protobuf is computed once per object revision and
// shared by every list and watch that sends it, and the response is
// written from those bytes.
func (h *Handler[T]) writeEncodedList(w http.ResponseWriter, r *http.Request, info RequestInfo, l *store.EncodedList[T]) error {
	rv := store.FormatRevision(l.Revision)
	out := h.output(r, info)
	switch {
	case out.table != "":
		objs := make([]T, len(l.Items))
		for i, it := range l.Items {
			objs[i] = it.Object
		}
		return h.writeTable(w, r, out, http.StatusOK, objs, rv, l.Continue)
	case out.format == formatProtobuf:
		pl := &encodedProtoList{meta: pbwire.ListMeta{ResourceVersion: rv, Continue: l.Continue}, items: make([][]byte, len(l.Items))}
		pl.size = pbwire.SizeBytes(1, pbwire.SizeListMeta(pl.meta))
		for i, it := range l.Items {
			b, err := it.As(h.protoItem)
			if err != nil {
				return err
			}
			pl.items[i] = b
			pl.size += pbwire.SizeBytes(2, len(b))
		}
		b, err := watch.MarshalEnvelope(h.res.APIVersion, h.cfg.ListKind, pl)
		if err != nil {
			return err
		}
		writeProtobuf(w, http.StatusOK, b)
		return nil
	default:
		return h.writeJSONList(w, l, rv)
	}
}

// writeJSONList writes the same bytes as json.Marshal of the wireList
// (and writeJSON's newline), from each item's shared encoding, without
// building the whole body in memory. Every item is encoded before the
// first byte is written, so an encoding error is still a clean 500.
func (h *Handler[T]) writeJSONList(w http.ResponseWriter, l *store.EncodedList[T], rv string) error {
	items := make([][]byte, len(l.Items))
	for i, it := range l.Items {
		b, err := it.EncodedJSON()
		if err != nil {
			return fmt.Errorf("encoding item %d of the list: %w", i, err)
		}
		items[i] = b
	}
	head, err := json.Marshal(&wireList[struct{}]{Kind: h.cfg.ListKind, APIVersion: h.res.APIVersion, Metadata: listMeta{ResourceVersion: rv, Continue: l.Continue}})
	if err != nil {
		return err
	}
	// head ends in `"items":null}`; the items go in its place.
	head = head[:len(head)-len(`null}`)]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, listWriteBuffer)
	bw.Write(head)
	bw.WriteByte('[')
	for i, b := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(b)
	}
	bw.WriteString("]}\n")
	// A client that went away is not the handler's error: the status is
	// already sent.
	_ = bw.Flush()
	return nil
}

// encodedProtoList is a list message built from its items' encodings.
type encodedProtoList struct {
	meta  pbwire.ListMeta
	items [][]byte
	size  int
}

func (l *encodedProtoList) Size() int { return l.size }

func (l *encodedProtoList) MarshalToSizedBuffer(b []byte) (int, error) {
	if len(b) < l.size {
		return 0, fmt.Errorf("rest: list buffer of %d bytes, need %d", len(b), l.size)
	}
	out := b[len(b)-l.size : len(b)-l.size]
	out = pbwire.AppendListMeta(out, 1, l.meta)
	for _, it := range l.items {
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(len(it)))
		out = append(out, it...)
	}
	return len(out), nil
}

// marshalProtoItem is an object's own protobuf message (no envelope), as
// a list item.
func (h *Handler[T]) marshalProtoItem(obj T) ([]byte, error) {
	n := h.proto.Size(obj)
	b := make([]byte, n)
	m, err := h.proto.MarshalToSizedBuffer(b, obj)
	if err != nil {
		return nil, err
	}
	if m != n {
		return nil, fmt.Errorf("rest: protobuf encoding of %s: wrote %d bytes, Size said %d", h.res.Kind, m, n)
	}
	return b, nil
}
