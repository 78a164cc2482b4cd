package rest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"github.com/setpoint-dev/setpoint/watch"
)

// watch serves a watch request: a thin layer over the store's watch cache
// (store.WatchCache.WatchEncoded), which decodes each event once, applies
// the watcher's selectors, and hands over each object with its JSON encoding,
// computed once per event and shared by every watcher; watch.Encoder writes
// those bytes as they are.
func (h *Handler[T]) watch(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	p, err := parseListParams(r.URL.Query(), true)
	if err != nil {
		return err
	}
	sel, field, err := h.selectors(r)
	if err != nil {
		return err
	}
	rv, bookmarks := p.rv, p.bookmarks
	sendInitial, listFirst := p.initialEvents()
	// timeoutSeconds bounds the stream, not the reading of its initial
	// state: the timer starts once the watch is open.
	streamCtx, stopTimer := ctx, context.CancelFunc(func() {})
	defer func() { stopTimer() }()
	startTimer := func() {
		if p.timeout > 0 {
			streamCtx, stopTimer = clockwork.WithTimeout(ctx, h.cfg.Clock, p.timeout)
		}
	}
	out := h.output(r, info)
	var tableOpts table.Options
	if out.table != "" {
		if tableOpts, err = h.tableOptions(r, "", ""); err != nil {
			return err
		}
	}
	if info.Name != "" {
		name, prev := info.Name, field
		field = func(o store.Object) bool {
			return o.GetObjectMeta().Name == name && (prev == nil || prev(o))
		}
	}
	page, after, err := h.initialState(ctx, info.Namespace, sel, field, rv, sendInitial, listFirst)
	if err != nil {
		return err
	}
	ws, err := h.cache.WatchEncoded(ctx, info.Namespace, store.WatchOptions{Selector: sel, Filter: field, AfterRevision: after, Bookmarks: bookmarks})
	if err != nil {
		if errors.Is(err, watch.ErrClosed) {
			return watch.NewStatusError(http.StatusServiceUnavailable, watch.StatusReasonServiceUnavailable, "the server is shutting down")
		}
		return err
	}
	defer ws.Stop()

	opts := []watch.EncoderOption{watch.WithBookmarkKind(h.res.APIVersion, h.res.Kind), watch.WithoutFlush(),
		watch.WithStatusFunc(func(err error) watch.Status { return *ErrorStatus(err, h.res.Kind, h.group, "") })}
	if out.format == formatProtobuf {
		w.Header().Set("Content-Type", watch.MediaTypeProtobufWatch)
		opts = append(opts, watch.WithProtobuf())
	} else {
		w.Header().Set("Content-Type", watch.MediaTypeJSON)
	}
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	enc := watch.NewEncoder(w, opts...)
	ew := &eventWriter[T]{h: h, enc: enc, out: out, tableOpts: tableOpts}
	defer ew.unstick(w, ws)()
	startTimer()
	ctx = streamCtx
	for page != nil {
		for _, obj := range page.Items {
			if err := ew.write(watch.Event[*watch.Encoded[T]]{Type: watch.Added, Object: obj}); err != nil {
				return nil // the client went away
			}
		}
		if page, err = h.nextInitialPage(ctx, info.Namespace, sel, field, page); err != nil {
			if ctx.Err() == nil {
				_ = watch.EncodeEvent(enc, watch.Event[T]{Type: watch.Error, Err: err})
			}
			enc.Flush()
			return nil
		}
	}
	if sendInitial && bookmarks && after > 0 {
		if err := enc.Bookmark(after, true); err != nil {
			return nil
		}
	}
	enc.Flush()
	events := ws.Events()
	for {
		var ev watch.Event[*watch.Encoded[T]]
		var ok bool
		ew.waiting.Store(true)
		select {
		case ev, ok = <-events:
		case <-ctx.Done():
			return nil // timeout, or the client went away
		case <-h.done:
			return nil // shutdown: end cleanly, clients watch again
		}
		ew.waiting.Store(false)
		// Write what is ready, then flush once.
		for ok {
			if err := ew.write(ev); err != nil {
				return nil // the client went away
			}
			select {
			case ev, ok = <-events:
				continue
			default:
			}
			break
		}
		if !ok {
			err := ws.Err()
			if err == nil || errors.Is(err, watch.ErrClosed) || errors.Is(err, watch.ErrStopped) || ctx.Err() != nil {
				enc.Flush()
				return nil // shutdown or timeout: end the stream cleanly
			}
			// ErrGone (410 Expired: relist), ErrTooSlow (429: watch again
			// from the last revision processed), or another failure.
			_ = watch.EncodeEvent(enc, watch.Event[T]{Type: watch.Error, Err: err})
			enc.Flush()
			return nil
		}
		if err := enc.Flush(); err != nil {
			return nil
		}
	}
}

// eventWriter writes watch events through the one wire encoder: objects as
// their shared encoding (JSON, or protobuf, each computed once per event
// for every watcher), or rendered as Tables.
type eventWriter[T store.Object] struct {
	h         *Handler[T]
	enc       *watch.Encoder
	out       output
	tableOpts table.Options
	waiting   atomic.Bool // the handler waits for the next event (not writing)
}

func (e *eventWriter[T]) write(ev watch.Event[*watch.Encoded[T]]) error {
	switch {
	case ev.Type == watch.Bookmark || ev.Type == watch.Error:
		return watch.EncodeEvent(e.enc, ev)
	case e.out.table != "":
		t, err := e.h.table([]T{ev.Object.Object}, e.tableOpts)
		if err != nil {
			return err
		}
		t.APIVersion = e.out.table
		return watch.EncodeEvent(e.enc, watch.Event[*table.Table]{Type: ev.Type, Object: t, Revision: ev.Revision})
	case e.out.format == formatProtobuf:
		b, err := ev.Object.As(e.h.protoEnc)
		if err != nil {
			return err
		}
		return watch.EncodeEvent(e.enc, watch.Event[watch.ProtobufObject]{Type: ev.Type, Object: b, Revision: ev.Revision})
	}
	return watch.EncodeEvent(e.enc, ev)
}

// unstick arranges that when the watch is cut off for falling behind its
// byte budget (watch.ErrTooSlow) while the handler is not waiting for an
// event, that is, while it writes or flushes to a client that may have
// stopped reading, the write fails at once (a write deadline in the past),
// so a stalled client cannot keep the connection and the handler forever. A
// handler that was merely busy loses the connection too; its client was too
// slow and watches again either way. It costs no goroutine. It returns the
// function the handler calls before it returns.
func (e *eventWriter[T]) unstick(w http.ResponseWriter, ws watch.Watcher[*watch.Encoded[T]]) func() {
	c, ok := ws.(interface{ AfterClose(func(error)) })
	if !ok {
		return func() {}
	}
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	returned := false
	c.AfterClose(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !returned && errors.Is(err, watch.ErrTooSlow) && !e.waiting.Load() {
			_ = rc.SetWriteDeadline(time.Unix(1, 0))
		}
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		returned = true
	}
}
