package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"github.com/setpoint-dev/setpoint/watch"
)

// InitialEventsEndAnnotation marks the bookmark that ends the initial
// events of a sendInitialEvents=true watch.
const InitialEventsEndAnnotation = "k8s.io/initial-events-end"

// change is one store event as the watch cache holds it: the object, the
// previous state when known, and the object's JSON, encoded once and
// shared by every watcher that sends it.
type change[T store.Object] struct {
	obj, prev T
	hasPrev   bool
	once      sync.Once
	raw       []byte
	err       error
}

func (c *change[T]) json() ([]byte, error) {
	c.once.Do(func() { c.raw, c.err = json.Marshal(c.obj) })
	return c.raw, c.err
}

// watchCache is one store watch fanned out to every watcher.
type watchCache[T store.Object] struct {
	h     *Handler[T]
	ready chan struct{} // closed once bc is set
	done  chan struct{} // closed when run ends
	bc    *watch.Broadcaster[*change[T]]
	once  sync.Once
}

func newWatchCache[T store.Object](h *Handler[T]) (*watchCache[T], error) {
	cfg := watch.BroadcasterConfig{Window: h.cfg.WatchWindow, Logger: h.log, Name: h.res.Name, Registerer: h.cfg.Registerer}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rest: %w", err)
	}
	return &watchCache[T]{h: h, ready: make(chan struct{}), done: make(chan struct{})}, nil
}

func (c *watchCache[T]) run(ctx context.Context) error {
	started := false
	c.once.Do(func() { started = true })
	if !started {
		return watch.ErrAlreadyRunning
	}
	defer close(c.done)
	h := c.h
	rev, err := h.st.Backend().Revision(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("rest: %s watch cache: reading the start revision: %w", h.res.Name, err)
	}
	cfg := watch.BroadcasterConfig{Window: h.cfg.WatchWindow, Logger: h.log, Name: h.res.Name, Registerer: h.cfg.Registerer}
	bc, err := watch.NewBroadcaster(c.source, rev, cfg)
	if err != nil {
		return fmt.Errorf("rest: %w", err)
	}
	c.bc = bc
	close(c.ready)
	return bc.Run(ctx)
}

// source opens the backend watch of the whole resource and decodes it.
func (c *watchCache[T]) source(ctx context.Context, afterRev int64) (watch.Watcher[*change[T]], error) {
	h := c.h
	ctx, cancel := context.WithCancel(ctx)
	bw, err := h.st.Backend().Watch(ctx, h.st.Key("", ""), afterRev)
	if err != nil {
		cancel()
		return nil, err
	}
	out := watch.NewStream[*change[T]](128)
	go func() {
		defer cancel()
		defer bw.Stop()
		out.Close(c.pump(ctx, bw, out))
	}()
	return out, nil
}

func (c *watchCache[T]) pump(ctx context.Context, bw watch.Watcher[store.KV], out *watch.Stream[*change[T]]) error {
	for {
		var ev watch.Event[store.KV]
		var ok bool
		select {
		case ev, ok = <-bw.Events():
		case <-out.Done():
			return watch.ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			if err := bw.Err(); err != nil {
				return err
			}
			return watch.ErrClosed
		}
		te := watch.Event[*change[T]]{Type: ev.Type, Revision: ev.Revision}
		switch ev.Type {
		case watch.Bookmark:
		case watch.Error:
			if ev.Err != nil {
				return ev.Err
			}
			return watch.ErrClosed
		default:
			ch := &change[T]{}
			var err error
			if ch.obj, err = c.decode(ev.Object.Value, ev.Revision); err != nil {
				return fmt.Errorf("rest: %s watch: %s at revision %d: %w", c.h.res.Name, ev.Object.Key, ev.Revision, err)
			}
			if ev.Object.PrevValue != nil && ev.Type == watch.Modified {
				if ch.prev, err = c.decode(ev.Object.PrevValue, ev.Revision); err != nil {
					return fmt.Errorf("rest: %s watch: previous %s at revision %d: %w", c.h.res.Name, ev.Object.Key, ev.Revision, err)
				}
				ch.hasPrev = true
			}
			te.Object = ch
		}
		if !out.Send(ctx, te) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return watch.ErrStopped
		}
	}
}

func (c *watchCache[T]) decode(value []byte, rev int64) (T, error) {
	obj := c.h.newObject()
	if err := json.Unmarshal(value, obj); err != nil {
		var zero T
		return zero, err
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = c.h.res.APIVersion, c.h.res.Kind
	obj.GetObjectMeta().ResourceVersion = store.FormatRevision(rev)
	return obj, nil
}

// outEvent is one event about to be written to a watcher.
type outEvent[T store.Object] struct {
	typ watch.EventType
	obj T
	rev int64
	raw func() ([]byte, error) // shared encoding of obj, or nil
	err error
}

// watchFilter says which objects a watcher wants.
type watchFilter struct {
	namespace string
	sel       store.Selector
	field     func(store.Object) bool
}

func (f *watchFilter) match(o store.Object) bool {
	if f.namespace != "" && o.GetObjectMeta().Namespace != f.namespace {
		return false
	}
	if !f.sel.Matches(o.GetObjectMeta().Labels) {
		return false
	}
	return f.field == nil || f.field(o)
}

// subscription is a watcher's stream of filtered events, from the cache or,
// when the start revision is older than the cache's window, straight from
// the store (which keeps etcd's history).
type subscription[T store.Object] struct {
	cache  watch.Watcher[*change[T]]
	direct watch.Watcher[T]
	filter watchFilter
	done   <-chan struct{} // closed when the cache stops (shutdown)
}

func (c *watchCache[T]) subscribe(ctx context.Context, afterRev int64, bookmarks bool, f watchFilter) (*subscription[T], error) {
	select {
	case <-c.ready:
	case <-c.done:
		return nil, NewStatusError(http.StatusServiceUnavailable, ReasonServiceUnavailable, "the server is shutting down")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var opts []watch.SubscribeOption
	if bookmarks {
		opts = append(opts, watch.WithBookmarks())
	}
	w, err := c.bc.Subscribe(ctx, afterRev, opts...)
	if err == nil {
		return &subscription[T]{cache: w, filter: f, done: c.done}, nil
	}
	if !errors.Is(err, watch.ErrGone) {
		if errors.Is(err, watch.ErrClosed) {
			return nil, NewStatusError(http.StatusServiceUnavailable, ReasonServiceUnavailable, "the server is shutting down")
		}
		return nil, err
	}
	// Older than the window: let the store replay etcd's history.
	d, err := c.h.st.Watch(ctx, f.namespace, store.WatchOptions{Selector: f.sel, Filter: f.field, AfterRevision: afterRev, Bookmarks: bookmarks})
	if err != nil {
		return nil, err
	}
	return &subscription[T]{direct: d, filter: f, done: c.done}, nil
}

func (s *subscription[T]) stop() {
	if s.cache != nil {
		s.cache.Stop()
	} else {
		s.direct.Stop()
	}
}

// next returns the next event for the watcher, skipping what it does not
// want; ok is false when the stream ended, with err saying why. ready
// reports whether an event may be taken without blocking.
func (s *subscription[T]) next(ctx context.Context, block bool) (ev outEvent[T], ok, more bool) {
	for {
		if s.direct != nil {
			var e watch.Event[T]
			var open bool
			if block {
				select {
				case e, open = <-s.direct.Events():
				case <-ctx.Done():
					return outEvent[T]{err: ctx.Err()}, false, true
				case <-s.done:
					return outEvent[T]{err: watch.ErrClosed}, false, true
				}
			} else {
				select {
				case e, open = <-s.direct.Events():
				default:
					return ev, false, false
				}
			}
			if !open {
				return outEvent[T]{err: s.direct.Err()}, false, true
			}
			if e.Type == watch.Error {
				return outEvent[T]{err: e.Err}, false, true
			}
			return outEvent[T]{typ: e.Type, obj: e.Object, rev: e.Revision}, true, true
		}
		var e watch.Event[*change[T]]
		var open bool
		if block {
			select {
			case e, open = <-s.cache.Events():
			case <-ctx.Done():
				return outEvent[T]{err: ctx.Err()}, false, true
			}
		} else {
			select {
			case e, open = <-s.cache.Events():
			default:
				return ev, false, false
			}
		}
		if !open {
			return outEvent[T]{err: s.cache.Err()}, false, true
		}
		switch e.Type {
		case watch.Bookmark:
			return outEvent[T]{typ: watch.Bookmark, rev: e.Revision}, true, true
		case watch.Error:
			return outEvent[T]{err: e.Err}, false, true
		}
		c := e.Object
		out := outEvent[T]{typ: e.Type, obj: c.obj, rev: e.Revision, raw: c.json}
		now := s.filter.match(c.obj)
		if e.Type == watch.Modified && c.hasPrev {
			was := s.filter.match(c.prev)
			switch {
			case was && !now:
				out = outEvent[T]{typ: watch.Deleted, obj: c.prev, rev: e.Revision}
			case !was && now:
				out.typ = watch.Added
			case !was && !now:
				continue
			}
		} else if !now {
			continue
		}
		return out, true, true
	}
}

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
	asTable := wantsTable(r)
	f := watchFilter{namespace: info.Namespace, sel: sel, field: field}
	if info.Name != "" {
		name := info.Name
		prev := f.field
		f.field = func(o store.Object) bool {
			return o.GetObjectMeta().Name == name && (prev == nil || prev(o))
		}
	}
	page, after, err := h.initialState(ctx, info.Namespace, f.sel, f.field, rv, sendInitial, listFirst)
	if err != nil {
		return err
	}
	if asTable {
		if _, err := h.tableOptions(r, "", ""); err != nil {
			return err
		}
	}
	sub, err := h.cache.subscribe(ctx, after, bookmarks, f)
	if err != nil {
		return err
	}
	defer sub.stop()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	ew := &eventWriter[T]{h: h, w: w, asTable: asTable}
	if asTable {
		if ew.tableOpts, err = h.tableOptions(r, "", ""); err != nil {
			return err
		}
	}
	startTimer()
	ctx = streamCtx
	for page != nil {
		for _, obj := range page.Items {
			if err := ew.write(outEvent[T]{typ: watch.Added, obj: obj, rev: 0}); err != nil {
				return nil
			}
		}
		if page, err = h.nextInitialPage(ctx, info.Namespace, f.sel, f.field, page); err != nil {
			if ctx.Err() == nil {
				ew.writeError(err)
			}
			flush()
			return nil
		}
	}
	if sendInitial && bookmarks {
		if err := ew.bookmark(after, true); err != nil {
			return nil
		}
	}
	flush()
	for {
		ev, ok, _ := sub.next(ctx, true)
		for ok {
			if err := ew.write(ev); err != nil {
				return nil // the client went away
			}
			ev, ok, _ = sub.next(ctx, false)
			if !ok && ev.err == nil {
				break // nothing more buffered
			}
		}
		flush()
		if ev.err != nil {
			if errors.Is(ev.err, watch.ErrClosed) || ctx.Err() != nil || errors.Is(ev.err, watch.ErrStopped) {
				return nil // shutdown or timeout: end the stream cleanly
			}
			ew.writeError(ev.err)
			flush()
			return nil
		}
		select {
		case <-h.cache.done:
			return nil
		default:
		}
	}
}

// eventWriter writes watch events as JSON lines.
type eventWriter[T store.Object] struct {
	h       *Handler[T]
	w       http.ResponseWriter
	asTable bool
	// tableOpts renders the Table of each event when asTable.
	tableOpts table.Options
	buf       bytes.Buffer
}

func (e *eventWriter[T]) write(ev outEvent[T]) error {
	if ev.typ == watch.Bookmark {
		return e.bookmark(ev.rev, false)
	}
	var obj []byte
	var err error
	switch {
	case e.asTable:
		t, terr := e.h.table([]T{ev.obj}, e.tableOpts)
		if terr != nil {
			return terr
		}
		obj, err = json.Marshal(t)
	case ev.raw != nil:
		obj, err = ev.raw()
	default:
		obj, err = json.Marshal(ev.obj)
	}
	if err != nil {
		e.writeError(err)
		return err
	}
	e.buf.Reset()
	e.buf.WriteString(`{"type":"`)
	e.buf.WriteString(string(ev.typ))
	e.buf.WriteString(`","object":`)
	e.buf.Write(obj)
	e.buf.WriteString("}\n")
	_, err = e.w.Write(e.buf.Bytes())
	return err
}

type bookmarkMeta struct {
	ResourceVersion string            `json:"resourceVersion"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

type bookmarkObj struct {
	Kind       string       `json:"kind"`
	APIVersion string       `json:"apiVersion"`
	Metadata   bookmarkMeta `json:"metadata"`
}

func (e *eventWriter[T]) bookmark(rev int64, initialEnd bool) error {
	if rev <= 0 {
		return nil
	}
	b := bookmarkObj{Kind: e.h.res.Kind, APIVersion: e.h.res.APIVersion, Metadata: bookmarkMeta{ResourceVersion: strconv.FormatInt(rev, 10)}}
	if initialEnd {
		b.Metadata.Annotations = map[string]string{InitialEventsEndAnnotation: "true"}
	}
	obj, _ := json.Marshal(b)
	_, err := fmt.Fprintf(e.w, `{"type":"BOOKMARK","object":%s}`+"\n", obj)
	return err
}

func (e *eventWriter[T]) writeError(err error) {
	st := ErrorStatus(err, "", "", "")
	obj, _ := json.Marshal(st)
	fmt.Fprintf(e.w, `{"type":"ERROR","object":%s}`+"\n", obj)
}
