package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/setpoint-dev/setpoint/internal/fastjson"
)

// Resource describes one kind of stored object.
type Resource struct {
	// Name is the plural lowercase resource name, e.g. "pods"; it is the key
	// segment after the prefix.
	Name string
	// APIVersion is "v1", "apps/v1", ...; it is set on every object the
	// store returns.
	APIVersion string
	// Kind is the object's type name, e.g. "Pod".
	Kind string
	// Namespaced says whether objects live in namespaces.
	Namespaced bool
}

// Validate checks that r is usable: a DNS-1123 label as Name, and non-empty
// APIVersion and Kind.
func (r Resource) Validate() error {
	var errs FieldErrors
	if s := dns1123Label(r.Name, 63); s != "" {
		errs = append(errs, &FieldError{Field: "resource.name", Value: r.Name, Reason: s})
	}
	if r.APIVersion == "" || strings.ContainsAny(r.APIVersion, " \t\n") || strings.Count(r.APIVersion, "/") > 1 {
		errs = append(errs, &FieldError{Field: "resource.apiVersion", Value: r.APIVersion, Reason: `must be "version" or "group/version"`})
	}
	if r.Kind == "" || strings.ContainsAny(r.Kind, " \t\n/") {
		errs = append(errs, &FieldError{Field: "resource.kind", Value: r.Kind, Reason: "must be a non-empty type name"})
	}
	return errs.ErrOrNil()
}

// DefaultKeyPrefix is the key prefix New uses unless WithKeyPrefix says
// otherwise.
const DefaultKeyPrefix = "/setpoint"

// DefaultMaxObjectBytes is the largest encoded object New accepts unless
// WithMaxObjectBytes says otherwise; it stays below etcd's 1.5 MiB request
// limit.
const DefaultMaxObjectBytes = 1 << 20

type options struct {
	finalizing  func(Object) bool // the resource's own pending finalizers
	markDeleted func(Object)      // what Delete changes besides deletionTimestamp
	prefix      string
	maxBytes    int
	clock       clockwork.Clock
	validator   func(Object) error
	validatorT  reflect.Type // the object type the validator takes
	watchCache  *WatchCacheConfig
	logger      *slog.Logger
	registerer  prometheus.Registerer
	pathNames   bool
}

// Option configures New.
type Option func(*options)

// WithPathSegmentNames relaxes the name rule from a DNS-1123 subdomain to
// Kubernetes' path segment rule (any name but "." and ".." without "/" or
// "%", at most MaxNameLength bytes), which RBAC roles and bindings use
// (system:kube-scheduler, system:certificates.k8s.io:...).
func WithPathSegmentNames() Option {
	return func(o *options) { o.pathNames = true }
}

// WithKeyPrefix sets the key prefix (default "/setpoint"). Keys are
// <prefix>/<resource>/<namespace>/<name>, or <prefix>/<resource>/<name> for
// cluster-scoped resources. A trailing '/' is removed.
func WithKeyPrefix(prefix string) Option {
	return func(o *options) { o.prefix = strings.TrimRight(prefix, "/") }
}

// WithMaxObjectBytes sets the largest encoded object the store writes
// (default 1 MiB). Larger objects give an error wrapping both ErrTooLarge
// and ErrInvalid, and nothing is written.
func WithMaxObjectBytes(n int) Option {
	return func(o *options) { o.maxBytes = n }
}

// WithClock sets the clock that creation and deletion timestamps are read
// from; tests pass clockwork.NewFakeClock(). nil (the default) is the real
// clock.
func WithClock(c clockwork.Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithValidator adds a check that Create, Update and GuaranteedUpdate run
// on every object before writing it; an error stops the write. fn receives
// the object as it would be stored and must not modify it. Return *FieldError or FieldErrors so
// the error wraps ErrInvalid. The store's object type must be T (or
// satisfy T, when T is an interface); New fails with ErrInvalid otherwise.
func WithValidator[T Object](fn func(T) error) Option {
	return func(o *options) {
		o.validatorT = reflect.TypeFor[T]()
		o.validator = func(obj Object) error {
			t, ok := obj.(T)
			if !ok {
				return fmt.Errorf("%w: validator for %T applied to %T", ErrInvalid, *new(T), obj)
			}
			return fn(t)
		}
	}
}

// WithFinalizing gives a resource deletion rules of its own, as Kubernetes'
// namespaces have: pending(obj) reports whether obj holds finalizers beyond
// metadata.finalizers (a namespace's spec.finalizers). While it does, Delete
// only marks obj as being deleted, setting deletionTimestamp and calling
// mark(obj) (which may change more, a namespace's phase to Terminating;
// mark may be nil), and keeps it; an Update or GuaranteedUpdate of an object
// being deleted that leaves neither metadata.finalizers nor pending ones
// deletes it, as the removal of the last metadata finalizer does. Every path
// to a delete (Delete, and so every delete of a server built on the store)
// follows the rule. The store's object type must be T, as for WithValidator.
func WithFinalizing[T Object](pending func(T) bool, mark func(T)) Option {
	return func(o *options) {
		o.finalizing = func(obj Object) bool {
			t, ok := obj.(T)
			return ok && pending(t)
		}
		o.markDeleted = func(obj Object) {
			if t, ok := obj.(T); ok && mark != nil {
				mark(t)
			}
		}
	}
}

// Store is a typed object store over a Backend: Kubernetes-style CRUD with
// resourceVersions, finalizers, generations, selectors and watches. It is
// safe for concurrent use. See the package documentation for the contract.
type Store[T Object] struct {
	b        Backend
	res      Resource
	prefix   string // <prefix>/<resource>/
	maxBytes int
	clock    clockwork.Clock
	validate func(Object) error
	locks    keyLocks       // turns for GuaranteedUpdate, per key
	cache    *ownedCache[T] // nil without WithWatchCache
	log      *slog.Logger
	// undecodable counts stored values that do not decode.
	undecodable prometheus.Counter
	hasDeepCopy bool // T has a generated DeepCopy() T
	pathNames   bool // WithPathSegmentNames
	// finalizing and markDeleted are WithFinalizing's rules; nil without.
	finalizing  func(Object) bool
	markDeleted func(Object)
}

// New returns a store of r's objects over b. It fails if r is invalid, T is
// not a pointer to a struct, or an option is invalid.
func New[T Object](b Backend, r Resource, opts ...Option) (*Store[T], error) {
	if b == nil {
		return nil, fmt.Errorf("%w: store.New: nil backend", ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("store.New: %w", err)
	}
	o := options{prefix: DefaultKeyPrefix, maxBytes: DefaultMaxObjectBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBytes <= 0 {
		return nil, fmt.Errorf("%w: store.New: max object bytes must be positive, got %d", ErrInvalid, o.maxBytes)
	}
	if o.clock == nil {
		o.clock = clockwork.NewRealClock()
	}
	if err := checkObjectType[T](); err != nil {
		return nil, err
	}
	if o.validatorT != nil && !reflect.TypeFor[T]().AssignableTo(o.validatorT) {
		return nil, fmt.Errorf("%w: store.New: WithValidator takes %v, but the store of %s holds %v", ErrInvalid, o.validatorT, r.Name, reflect.TypeFor[T]())
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	_, deepCopy := any(newObject[T]()).(interface{ DeepCopy() T })
	s := &Store[T]{
		b:           b,
		res:         r,
		prefix:      o.prefix + "/" + r.Name + "/",
		maxBytes:    o.maxBytes,
		clock:       o.clock,
		validate:    o.validator,
		finalizing:  o.finalizing,
		markDeleted: o.markDeleted,
		log:         o.logger.With("resource", r.Name),
		undecodable: newUndecodableCounter(r.Name),
		hasDeepCopy: deepCopy,
		pathNames:   o.pathNames,
	}
	if o.watchCache != nil {
		if err := o.watchCache.Validate(); err != nil {
			return nil, fmt.Errorf("store.New: %w", err)
		}
	}
	if err := registerStoreMetrics(o.registerer, s.undecodable, r.Name); err != nil {
		return nil, err
	}
	if o.watchCache != nil {
		cfg := *o.watchCache
		if cfg.Registerer == nil {
			cfg.Registerer = o.registerer
		}
		c, err := NewWatchCache(s, cfg)
		if err != nil {
			if o.registerer != nil {
				o.registerer.Unregister(s.undecodable)
			}
			return nil, fmt.Errorf("store.New: %w", err)
		}
		s.cache = &ownedCache[T]{WatchCache: c, ended: make(chan struct{})}
	}
	return s, nil
}

func checkObjectType[T Object]() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: store.New: %v", ErrInvalid, r)
		}
	}()
	newObject[T]()
	return nil
}

// holdsFinalizers reports whether obj may not go yet: it has metadata
// finalizers, or pending finalizers of the resource's own (WithFinalizing).
func (s *Store[T]) holdsFinalizers(obj T) bool {
	return len(obj.GetObjectMeta().Finalizers) > 0 || s.finalizing != nil && s.finalizing(obj)
}

// markDeletion sets obj's deletionTimestamp (and the resource's own marks).
func (s *Store[T]) markDeletion(obj T) {
	t := NewTime(s.clock.Now())
	obj.GetObjectMeta().DeletionTimestamp = &t
	if s.markDeleted != nil {
		s.markDeleted(obj)
	}
}

// Resource returns the resource the store holds.
func (s *Store[T]) Resource() Resource { return s.res }

// Backend returns the backend the store writes to.
func (s *Store[T]) Backend() Backend { return s.b }

// Key returns the backend key of an object. namespace is ignored for
// cluster-scoped resources.
func (s *Store[T]) Key(namespace, name string) string {
	if !s.res.Namespaced || namespace == "" {
		return s.prefix + name
	}
	return s.prefix + namespace + "/" + name
}

// listPrefix returns the key prefix of namespace ("" = all).
func (s *Store[T]) listPrefix(namespace string) string {
	if !s.res.Namespaced || namespace == "" {
		return s.prefix
	}
	return s.prefix + namespace + "/"
}

// CheckName checks an object name by this store's rule: a DNS-1123
// subdomain (ValidateName), or with WithPathSegmentNames Kubernetes' path
// segment rule. The error is a *FieldError on metadata.name.
func (s *Store[T]) CheckName(name string) error {
	if !s.pathNames {
		return ValidateName(name)
	}
	if r := pathSegmentName(name); r != "" {
		return &FieldError{Field: "metadata.name", Value: name, Reason: r}
	}
	return nil
}

// checkKeyArgs validates the namespace and name of a key-addressed call.
func (s *Store[T]) checkKeyArgs(namespace, name string) error {
	var errs FieldErrors
	if err := s.CheckName(name); err != nil {
		errs = append(errs, err.(*FieldError))
	}
	switch {
	case s.res.Namespaced:
		if err := ValidateNamespace(namespace); err != nil {
			errs = append(errs, err.(*FieldError))
		}
	case namespace != "":
		errs = append(errs, &FieldError{Field: "metadata.namespace", Value: namespace, Reason: "must be empty for a cluster-scoped resource"})
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %w", s.res.Name, joinKey(namespace, name), errs)
	}
	return nil
}

func joinKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// encode serializes obj for storage: TypeMeta from the resource, no
// resourceVersion. It enforces the size limit.
func (s *Store[T]) encode(obj T, key string) ([]byte, error) {
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = s.res.APIVersion, s.res.Kind
	m := obj.GetObjectMeta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	data, err := json.Marshal(obj)
	m.ResourceVersion = rv
	if err != nil {
		return nil, fmt.Errorf("%w: %s: encoding object: %v", ErrInvalid, key, err)
	}
	if len(data) > s.maxBytes {
		return nil, fmt.Errorf("%s: encoded object is %d bytes, limit is %d: %w", key, len(data), s.maxBytes, tooLarge{})
	}
	return data, nil
}

// tooLarge wraps both ErrTooLarge and ErrInvalid.
type tooLarge struct{}

func (tooLarge) Error() string   { return ErrTooLarge.Error() }
func (tooLarge) Unwrap() []error { return []error{ErrTooLarge, ErrInvalid} }

// decode builds a fresh object from a stored value at revision rev.
func (s *Store[T]) decode(key string, value []byte, rev int64) (T, error) {
	obj := newObject[T]()
	// Stored values are the store's own encodings (encoding/json's):
	// valid JSON, decoded without a second validity scan.
	if err := fastjson.UnmarshalValid(value, obj); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: decoding stored object: %w", key, err)
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = s.res.APIVersion, s.res.Kind
	obj.GetObjectMeta().ResourceVersion = FormatRevision(rev)
	return obj, nil
}

// shallowCopy returns a new T whose struct is a copy of *obj. Maps, slices
// and pointers are shared with obj, so the store only assigns top-level
// fields of the copy (metadata scalars) and never writes through them.
func shallowCopy[T Object](obj T) T {
	v := reflect.ValueOf(obj)
	n := reflect.New(v.Type().Elem())
	n.Elem().Set(v.Elem())
	return n.Interface().(T)
}

// Get returns the current state of an object, or an error wrapping
// ErrNotFound. The read is linearizable.
func (s *Store[T]) Get(ctx context.Context, namespace, name string) (T, error) {
	var zero T
	if err := s.checkKeyArgs(namespace, name); err != nil {
		return zero, err
	}
	key := s.Key(namespace, name)
	kv, err := s.b.Get(ctx, key)
	if err != nil {
		return zero, fmt.Errorf("get %s: %w", key, err)
	}
	return s.decode(key, kv.Value, kv.ModRevision)
}

// Create stores a new object and returns it as stored: with UID,
// CreationTimestamp, Generation 1, and ResourceVersion set, and a generated
// name (GenerateName) when only metadata.generateName was given. obj is not
// modified. The object must not have a ResourceVersion; its UID is replaced
// by a new one (or the one WithUID put in ctx). An existing object gives an error
// wrapping ErrAlreadyExists; invalid input an error wrapping ErrInvalid; a
// failed fence (see WithFence) ErrFenced. Nothing is written on error, nor
// in a dry run (WithDryRun).
func (s *Store[T]) Create(ctx context.Context, obj T) (T, error) {
	var zero T
	if err := checkNonNil(obj); err != nil {
		return zero, err
	}
	// Work on a shallow copy: obj is not modified, and the result is decoded
	// from the stored bytes so that the caller owns it outright.
	n := shallowCopy(obj)
	m := n.GetObjectMeta()
	if m.Name == "" && m.GenerateName != "" {
		m.Name = GenerateName(m.GenerateName)
	}
	errs := s.validateMeta(m)
	if m.ResourceVersion != "" {
		errs = append(errs, &FieldError{Field: "metadata.resourceVersion", Value: m.ResourceVersion, Reason: "must not be set on create"})
	}
	if len(errs) > 0 {
		return zero, fmt.Errorf("create %s %s: %w", s.res.Name, joinKey(m.Namespace, nameOrGenerate(m)), errs)
	}
	m.UID = newUID()
	if uid, _ := ctx.Value(uidKey{}).(string); uid != "" {
		m.UID = uid
	}
	m.CreationTimestamp = NewTime(s.clock.Now())
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	m.Generation = 1
	key := s.Key(m.Namespace, m.Name)
	if s.validate != nil {
		if err := s.validate(n); err != nil {
			return zero, fmt.Errorf("create %s: %w", key, err)
		}
	}
	data, err := s.encode(n, key)
	if err != nil {
		return zero, fmt.Errorf("create: %w", err)
	}
	if DryRunFrom(ctx) {
		if _, err := s.b.Get(ctx, key); err == nil {
			return zero, fmt.Errorf("create %s: %w", key, ErrAlreadyExists)
		} else if !errors.Is(err, ErrNotFound) {
			return zero, fmt.Errorf("create %s: %w", key, err)
		}
		if err := s.checkFences(ctx, key); err != nil {
			return zero, fmt.Errorf("create: %w", err)
		}
		return s.decode(key, data, 0)
	}
	var rev int64
	if side := SideWritesFrom(ctx); len(side) > 0 {
		sw, ok := s.b.(SideWriter)
		if !ok {
			return zero, fmt.Errorf("%w: create %s: the backend %T cannot make side writes", ErrInvalid, key, s.b)
		}
		rev, err = sw.CreateWithSideWrites(ctx, key, data, side, FencesFrom(ctx)...)
	} else {
		rev, err = s.b.Create(ctx, key, data, FencesFrom(ctx)...)
	}
	if err != nil {
		return zero, fmt.Errorf("create %s: %w", key, err)
	}
	return s.decode(key, data, rev)
}

func nameOrGenerate(m *ObjectMeta) string {
	if m.Name == "" && m.GenerateName != "" {
		return m.GenerateName + "*"
	}
	return m.Name
}

func checkNonNil(obj Object) error {
	if obj == nil || isNilPointer(obj) {
		return fmt.Errorf("%w: nil object", ErrInvalid)
	}
	return nil
}

// ListOptions select and page a List.
type ListOptions struct {
	// Selector filters by labels; the zero value matches everything.
	Selector Selector
	// Filter is an extra predicate (field selectors); nil matches all.
	Filter func(Object) bool
	// Limit caps the number of items returned; 0 means no limit. When more
	// matching items remain, List.Continue is set.
	Limit int64
	// Continue is the token from a previous List's Continue; the next page
	// is read at that list's revision.
	Continue string
	// Revision reads at this revision; 0 means the latest (linearizable).
	Revision int64
}

// List is one page of objects, all as of one store revision.
type List[T Object] struct {
	// Items are in key order.
	Items []T
	// Revision is the store revision the whole list is consistent at.
	Revision int64
	// Continue, when non-empty, fetches the next page (ListOptions.Continue).
	Continue string
}

type continueToken struct {
	Rev   int64  `json:"rev"`
	Start []byte `json:"start"` // bytes, so any key survives the round trip
}

func encodeContinue(rev int64, start string) string {
	b, _ := json.Marshal(continueToken{Rev: rev, Start: []byte(start)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Store[T]) decodeContinue(tok, prefix string) (continueToken, error) {
	var ct continueToken
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		err = d.Decode(&ct)
		if err == nil {
			if _, terr := d.Token(); terr != io.EOF {
				err = errors.New("trailing data after the token")
			}
		}
	}
	if err == nil && (ct.Rev <= 0 || !strings.HasPrefix(string(ct.Start), prefix)) {
		err = errors.New("token does not belong to this list")
	}
	if err != nil {
		return ct, &FieldError{Field: "continue", Value: tok, Reason: "malformed continue token: " + err.Error()}
	}
	return ct, nil
}

// checkList checks a list's arguments and returns its key prefix.
func (s *Store[T]) checkList(namespace string, opts ListOptions) (string, error) {
	if namespace != "" {
		if !s.res.Namespaced {
			return "", fmt.Errorf("list %s: %w", s.res.Name, &FieldError{Field: "namespace", Value: namespace, Reason: "must be empty for a cluster-scoped resource"})
		}
		if err := ValidateNamespace(namespace); err != nil {
			return "", fmt.Errorf("list %s: %w", s.res.Name, err)
		}
	}
	if opts.Limit < 0 || opts.Revision < 0 {
		return "", fmt.Errorf("list %s: %w", s.res.Name, &FieldError{Field: "limit", Reason: "limit and revision must not be negative"})
	}
	return s.listPrefix(namespace), nil
}

// List returns the objects in namespace ("" = all namespaces) that match
// opts.Selector and opts.Filter, in key order, consistent at one revision.
// A stored value that does not decode is left out rather than failing the
// whole list. With a Limit, pages are read at the first page's revision; a Continue
// token whose revision has been compacted gives an error wrapping ErrGone
// (relist from the start), and a malformed one ErrInvalid.
func (s *Store[T]) List(ctx context.Context, namespace string, opts ListOptions) (*List[T], error) {
	prefix, err := s.checkList(namespace, opts)
	if err != nil {
		return nil, err
	}
	rev, start := opts.Revision, ""
	if opts.Continue != "" {
		ct, err := s.decodeContinue(opts.Continue, prefix)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.res.Name, err)
		}
		if opts.Revision != 0 && opts.Revision != ct.Rev {
			return nil, fmt.Errorf("list %s: %w", s.res.Name, &FieldError{Field: "revision", Value: FormatRevision(opts.Revision), Reason: "conflicts with the continue token's revision " + FormatRevision(ct.Rev)})
		}
		rev, start = ct.Rev, string(ct.Start)
	}
	match := func(obj T) bool {
		if !opts.Selector.Matches(obj.GetObjectMeta().Labels) {
			return false
		}
		return opts.Filter == nil || opts.Filter(obj)
	}
	out := &List[T]{Items: []T{}}
	for {
		ro := RangeOptions{StartKey: start, Revision: rev}
		if opts.Limit > 0 {
			ro.Limit = opts.Limit - int64(len(out.Items))
			if ro.Limit < 32 && (!opts.Selector.Empty() || opts.Filter != nil) {
				ro.Limit = 32 // read ahead when filtering
			}
		}
		res, err := s.b.Range(ctx, prefix, ro)
		if err != nil {
			if opts.Continue != "" && errors.Is(err, ErrGone) {
				return nil, fmt.Errorf("list %s: continue token revision %d: %w", s.res.Name, rev, err)
			}
			return nil, fmt.Errorf("list %s: %w", s.res.Name, err)
		}
		rev = res.Revision
		out.Revision = rev
		for i, kv := range res.KVs {
			obj, err := s.decode(kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				// One bad stored value must not break the list for
				// everyone: it is reported and skipped, as watches do.
				s.reportUndecodable("list", kv.Key, kv.ModRevision, err)
				continue
			}
			if !match(obj) {
				continue
			}
			out.Items = append(out.Items, obj)
			if opts.Limit > 0 && int64(len(out.Items)) == opts.Limit {
				if i < len(res.KVs)-1 || res.More {
					out.Continue = encodeContinue(rev, kv.Key+"\x00")
				}
				return out, nil
			}
		}
		if !res.More || len(res.KVs) == 0 {
			return out, nil
		}
		start = res.KVs[len(res.KVs)-1].Key + "\x00"
	}
}
