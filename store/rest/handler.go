package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
	"github.com/setpoint-dev/setpoint/store/rest/table"
	"github.com/setpoint-dev/setpoint/watch"
)

// FenceHeader carries store fences over HTTP: one value per fence,
// "<key>=<createRevision>". The handler applies them to the write with
// store.WithFence, so a deposed leader's write fails with 409 Fenced.
const FenceHeader = "X-Setpoint-Fence"

// Handler serves one resource over HTTP in the Kubernetes REST shape. It is
// safe for concurrent use. Run must be running for watches to be served.
type Handler[T store.Object] struct {
	cfg     Config[T]
	st      *store.Store[T]
	res     store.Resource
	group   string
	elem    reflect.Type
	rules   *rules[T]
	table   func(objs []T, opts table.Options) (*table.Table, error)
	admit   admission
	cache   *store.WatchCache[T]
	ownsWC  bool          // the handler runs cache (the store has none of its own)
	running atomic.Bool   // Run was called
	done    chan struct{} // closed when Run returns: watches end
	fm      *fieldmanager.Manager
	maxBody int64
	log     *slog.Logger
	// proto encodes T in protobuf (nil: JSON only); protoEnc is the
	// encoding the watch cache's shared events cache it under.
	proto    *ProtobufCodec[T]
	protoEnc *watch.Encoding[T]
	// protoItem is T's protobuf message without the envelope, as lists
	// carry it, cached on the watch cache's shared objects too.
	protoItem *watch.Encoding[T]
}

// NewHandler returns a handler for cfg.Store's resource, with the rules of
// cfg.Strategy and its optional pieces (see Strategy).
func NewHandler[T store.Object](cfg Config[T]) (*Handler[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var zero T
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("rest: object type %T must be a pointer to a struct", zero)
	}
	h := &Handler[T]{cfg: cfg, st: cfg.Store, res: cfg.Store.Resource(), elem: t.Elem(), maxBody: cfg.MaxBodyBytes, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.cfg.Clock == nil {
		h.cfg.Clock = clockwork.NewRealClock()
	}
	if g, _, ok := strings.Cut(h.res.APIVersion, "/"); ok {
		h.group = g
	}
	if h.cfg.ListKind == "" {
		h.cfg.ListKind = h.res.Kind + "List"
	}
	if h.proto = protobufCodecOf(cfg.Protobuf); h.proto != nil {
		h.protoEnc = watch.NewEncoding(watch.MediaTypeProtobuf, h.marshalProtobuf)
		h.protoItem = watch.NewEncoding(watch.MediaTypeProtobuf+" item", h.marshalProtoItem)
	}
	h.rules = resolveRules(cfg.Strategy, h.res, t.Elem())
	h.table = h.rules.table
	h.admit = newAdmission(cfg.Admission)
	fm, err := h.newFieldManager()
	if err != nil {
		return nil, err
	}
	h.fm = fm
	h.done = make(chan struct{})
	if c := cfg.Store.WatchCache(); c != nil {
		h.cache = c
	} else {
		wc := cfg.WatchCache
		if wc.Logger == nil {
			wc.Logger = h.log
		}
		if wc.Registerer == nil {
			wc.Registerer = cfg.Registerer
		}
		c, err := store.NewWatchCache(cfg.Store, wc)
		if err != nil {
			return nil, fmt.Errorf("rest: %w", err)
		}
		h.cache, h.ownsWC = c, true
	}
	return h, nil
}

// qualifiedResource is the resource as Kubernetes names it in messages:
// "pods", "deployments.apps".
func (h *Handler[T]) qualifiedResource() string {
	if h.group == "" {
		return h.res.Name
	}
	return h.res.Name + "." + h.group
}

// Resource returns the served resource.
func (h *Handler[T]) Resource() store.Resource { return h.res }

// Run runs the watch cache (one store watch for all watchers; or, when the
// store has a watch cache of its own, uses that one) until ctx is done; then
// every open watch ends cleanly. It returns nil when ctx ends, or the error
// that stopped the cache. It may be called once.
func (h *Handler[T]) Run(ctx context.Context) error {
	if !h.running.CompareAndSwap(false, true) {
		return fmt.Errorf("rest: %s handler: %w", h.res.Name, watch.ErrAlreadyRunning)
	}
	defer close(h.done)
	if h.ownsWC {
		return h.cache.Run(ctx)
	}
	<-ctx.Done()
	return nil
}

// ServeHTTP parses the resource path (see ParseRequestInfo) and serves it;
// a path for another resource gets 404.
func (h *Handler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, ok := ParseRequestInfo(r)
	if !ok || info.Resource != h.res.Name || info.APIVersion != h.res.APIVersion {
		writeStatusFor(w, r, h.proto != nil, watch.NewStatus(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
		return
	}
	h.Serve(w, r, info)
}

// Serve serves a request already parsed into info (info.Resource must be
// this handler's).
func (h *Handler[T]) Serve(w http.ResponseWriter, r *http.Request, info RequestInfo) {
	if err := h.serve(w, r, info); err != nil {
		name := info.Name
		var ne *namedError
		if errors.As(err, &ne) {
			name = ne.name
		}
		writeStatusFor(w, r, h.proto != nil, ResourceErrorStatus(err, h.res, name))
	}
}

// namedError carries the name of the object a create was about (the URL
// has none), for the error status.
type namedError struct {
	name string
	err  error
}

func (e *namedError) Error() string { return e.err.Error() }
func (e *namedError) Unwrap() error { return e.err }

func (h *Handler[T]) serve(w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	if err := h.checkScope(info); err != nil {
		return err
	}
	if info.Subresource != "scale" { // serveScale negotiates for the Scale type
		if _, err := negotiate(r.Header.Get("Accept"), h.offers(info)); err != nil {
			return err
		}
	}
	ctx, err := withFences(r)
	if err != nil {
		return err
	}
	switch info.Verb {
	case "create", "update", "patch":
		o, err := requestOwner(r, info.Verb)
		if err != nil {
			return err
		}
		ctx = withOwner(ctx, o)
	}
	switch info.Subresource {
	case "":
	case "status":
		if h.rules.status == nil {
			return notFound("the server could not find the requested resource (%s/status)", h.res.Name)
		}
		switch info.Verb {
		case "get":
		case "update", "patch":
		default:
			return methodNotAllowed(r.Method, h.res.Name+"/status")
		}
	case "scale":
		if h.rules.scale == nil {
			return notFound("the server could not find the requested resource (%s/scale)", h.res.Name)
		}
		return h.serveScale(ctx, w, r, info)
	default:
		if !slices.Contains(h.rules.subNames, info.Subresource) {
			return notFound("the server could not find the requested resource (%s/%s)", h.res.Name, info.Subresource)
		}
		switch info.Verb {
		case "get", "update", "patch":
		default:
			return methodNotAllowed(r.Method, h.res.Name+"/"+info.Subresource)
		}
	}
	switch info.Verb {
	case "get":
		return h.get(ctx, w, r, info)
	case "list":
		return h.list(ctx, w, r, info)
	case "watch":
		return h.watch(ctx, w, r, info)
	case "create":
		if info.Name != "" {
			return methodNotAllowed(r.Method, h.res.Name+"/"+info.Name)
		}
		return h.create(ctx, w, r, info)
	case "update":
		return h.update(ctx, w, r, info)
	case "patch":
		return h.patch(ctx, w, r, info)
	case "delete":
		return h.delete(ctx, w, r, info)
	case "deletecollection":
		return h.deleteCollection(ctx, w, r, info)
	}
	return methodNotAllowed(r.Method, h.res.Name)
}

func notFound(format string, args ...any) error {
	return watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf(format, args...))
}

func methodNotAllowed(method, what string) error {
	return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, fmt.Sprintf("method %s is not supported on %s", method, what))
}

func (h *Handler[T]) checkScope(info RequestInfo) error {
	if !h.res.Namespaced && info.Namespace != "" {
		return notFound("%s is cluster-scoped: it has no namespace %q", h.res.Name, info.Namespace)
	}
	if h.res.Namespaced && info.Namespace == "" && info.Name != "" {
		return badRequest("%s is namespaced: the path must name a namespace", h.res.Name)
	}
	if h.res.Namespaced && info.Namespace == "" && info.Verb == "create" {
		return badRequest("%s is namespaced: create under /namespaces/<namespace>/%s", h.res.Name, h.res.Name)
	}
	if info.Namespace != "" {
		if err := store.ValidateNamespace(info.Namespace); err != nil {
			return badRequest("invalid namespace in path: %v", err)
		}
	}
	if info.Name != "" {
		if err := h.st.CheckName(info.Name); err != nil { // RBAC kinds allow "system:..." names
			return badRequest("invalid name in path: %v", err)
		}
	}
	return nil
}

// withFences returns the request's context with the fences of its
// FenceHeader values.
func withFences(r *http.Request) (context.Context, error) {
	ctx := r.Context()
	vals := r.Header.Values(FenceHeader)
	if len(vals) == 0 {
		return ctx, nil
	}
	fences, err := ParseFences(vals)
	if err != nil {
		return nil, err
	}
	return store.WithFence(ctx, fences...), nil
}

// MaxFences is the most fences one request may carry (FenceHeader); more
// are a 400, before anything is read or written.
const MaxFences = 16

// WriteContext returns the context of a write served outside a Handler
// (a special route of an apiserver, say pods/binding): r's context with the
// fences of its FenceHeader values and, when its query says dryRun=All, a
// dry run (store.WithDryRun). Errors are 400s naming the bad value.
func WriteContext(r *http.Request) (context.Context, error) {
	ctx, err := withFences(r)
	if err != nil {
		return nil, err
	}
	return writeContext(ctx, r.URL.Query())
}

// ParseFences parses FenceHeader values ("<key>=<createRevision>", several
// may be comma-separated), at most MaxFences of them. Errors are 400s naming
// the bad value.
func ParseFences(vals []string) ([]store.Fence, error) {
	var out []store.Fence
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			if len(out) == MaxFences {
				return nil, badRequest("too many %s values: at most %d fences per request", FenceHeader, MaxFences)
			}
			f = strings.TrimSpace(f)
			i := strings.LastIndexByte(f, '=')
			if i <= 0 {
				return nil, badRequest("malformed %s value %q: want <key>=<createRevision>", FenceHeader, f)
			}
			if !validFenceKey(f[:i]) {
				return nil, badRequest("malformed %s value %q: the key must be printable ASCII without spaces", FenceHeader, f)
			}
			rev, err := strconv.ParseInt(f[i+1:], 10, 64)
			if err != nil || rev <= 0 {
				return nil, badRequest("malformed %s value %q: createRevision must be a positive integer", FenceHeader, f)
			}
			out = append(out, store.Fence{Key: f[:i], CreateRevision: rev})
		}
	}
	return out, nil
}

func validFenceKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' || k[i] == ',' {
			return false
		}
	}
	return k != ""
}

// FormatFences formats fences as FenceHeader values.
func FormatFences(fences []store.Fence) []string {
	out := make([]string, len(fences))
	for i, f := range fences {
		out[i] = f.Key + "=" + strconv.FormatInt(f.CreateRevision, 10)
	}
	return out
}

func (h *Handler[T]) newObject() T {
	return reflect.New(h.elem).Interface().(T)
}

// readBody reads the request body within the size limit.
func (h *Handler[T]) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBody(w, r, h.maxBody, false)
}

// readBody reads r's body, failing with 413 beyond limit bytes, and with
// 400 if it is empty unless optional.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, optional bool) ([]byte, error) {
	if r.Body == nil {
		if optional {
			return nil, nil
		}
		return nil, badRequest("request body is required")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge,
				fmt.Sprintf("request body is larger than the limit of %d bytes", limit))
		}
		return nil, badRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optional {
			return nil, nil
		}
		return nil, badRequest("request body is empty")
	}
	return data, nil
}

// readObject reads and decodes the request body: JSON or, where T has a
// protobuf codec, protobuf, as its Content-Type says (415 otherwise).
func (h *Handler[T]) readObject(w http.ResponseWriter, r *http.Request) (T, error) {
	var zero T
	f, err := inputFormat(r, h.proto != nil)
	if err != nil {
		return zero, err
	}
	data, err := h.readBody(w, r)
	if err != nil {
		return zero, err
	}
	if f == formatProtobuf {
		return h.decodeProtobuf(data)
	}
	return h.decodeObject(w, r, data)
}

// decodeObject decodes a JSON object of this resource. Field names match
// case-sensitively; unknown and duplicate fields follow the request's
// fieldValidation (Warn by default: dropped, and named in Warning headers;
// Strict: 400 naming them; Ignore). A wrong apiVersion or kind is a 400.
func (h *Handler[T]) decodeObject(w http.ResponseWriter, r *http.Request, data []byte) (T, error) {
	var zero T
	directive, err := fieldValidation(r)
	if err != nil {
		return zero, err
	}
	obj := h.newObject()
	warnings, err := decodeStrictly(data, obj, directive)
	if err != nil {
		_, version, ok := strings.Cut(h.res.APIVersion, "/")
		if !ok {
			version = h.res.APIVersion
		}
		if isStrictDecodingError(err) {
			return zero, badRequest("%s in version %q cannot be handled as a %s: %v", h.res.Kind, version, h.res.Kind, err)
		}
		return zero, badRequest("decoding %s: %v", h.res.Kind, err)
	}
	for _, msg := range warnings {
		addWarning(w, msg)
	}
	tm := obj.GetTypeMeta()
	if tm.Kind != "" && tm.Kind != h.res.Kind {
		return zero, badRequest("the object's kind %q does not match the resource's kind %q", tm.Kind, h.res.Kind)
	}
	if tm.APIVersion != "" && tm.APIVersion != h.res.APIVersion {
		return zero, badRequest("the object's apiVersion %q does not match the resource's %q", tm.APIVersion, h.res.APIVersion)
	}
	tm.Kind, tm.APIVersion = h.res.Kind, h.res.APIVersion
	return obj, nil
}

func (h *Handler[T]) tableOptions(r *http.Request, rv, cont string) (table.Options, error) {
	inc, err := table.ParseIncludeObject(r.URL.Query().Get("includeObject"))
	if err != nil {
		return table.Options{}, badRequest("%v", err)
	}
	return table.Options{Include: inc, ResourceVersion: rv, Continue: cont}, nil
}

func (h *Handler[T]) get(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	obj, err := h.st.Get(ctx, info.Namespace, info.Name)
	if err != nil {
		return err
	}
	return h.writeObject(w, r, info, http.StatusOK, obj)
}

// listOptions parses the selector and paging parameters shared by list and
// watch. Malformed values give 400s naming the parameter.
func (h *Handler[T]) selectors(r *http.Request) (store.Selector, func(store.Object) bool, error) {
	q := r.URL.Query()
	sel, err := store.ParseSelector(q.Get("labelSelector"))
	if err != nil {
		return sel, nil, badRequest("invalid labelSelector %q: %v", q.Get("labelSelector"), err)
	}
	filter, err := h.rules.fieldFilter(q.Get("fieldSelector"))
	if err != nil {
		return sel, nil, badRequest("invalid fieldSelector %q: %v", q.Get("fieldSelector"), err)
	}
	return sel, filter, nil
}

// listMeta is a list's metadata on the wire.
type listMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// wireList is a list on the wire.
type wireList[T any] struct {
	Kind       string   `json:"kind"`
	APIVersion string   `json:"apiVersion"`
	Metadata   listMeta `json:"metadata"`
	Items      []T      `json:"items"`
}

func (h *Handler[T]) list(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) error {
	p, err := parseListParams(r.URL.Query(), false)
	if err != nil {
		return err
	}
	sel, filter, err := h.selectors(r)
	if err != nil {
		return err
	}
	snap := p.snapshot()
	if err := h.checkSnapshot(ctx, snap); err != nil {
		return err
	}
	l, err := h.cache.List(ctx, info.Namespace, cachedListOptions(p, snap, sel, filter))
	if err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) && errors.Is(err, store.ErrInvalid) {
			return badRequest("%v", err)
		}
		if errors.Is(err, store.ErrGone) && snap.exact != 0 {
			return watch.NewStatusError(http.StatusGone, watch.StatusReasonExpired, fmt.Sprintf("The resourceVersion for the provided list is too old: %v", err))
		}
		return err
	}
	return h.writeEncodedList(w, r, info, l)
}

func parseRV(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("invalid resourceVersion %q: must be a non-negative decimal integer", s)
	}
	return n, nil
}
