package fieldmanager

import (
	"errors"
	"fmt"
	"sort"

	"github.com/jonboulle/clockwork"
	"github.com/setpoint-dev/setpoint/store"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/merge"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// DefaultMaxUpdateManagers is how many Update entries an object keeps by
// default before the oldest are folded into one, as in Kubernetes.
const DefaultMaxUpdateManagers = 10

// Names of the managers the field manager itself invents, as in Kubernetes.
const (
	// BeforeFirstApplyManager owns the fields an object had when it was
	// first applied without any managedFields.
	BeforeFirstApplyManager = "before-first-apply"
	// AncientChangesManager holds the fields of the oldest Update
	// managers once there are more than MaxUpdateManagers of them.
	AncientChangesManager = "ancient-changes"
	// UnknownManager records an update whose manager has no name.
	UnknownManager = "unknown"
)

// ErrInvalidConfig is wrapped by Apply's errors about the applied
// configuration itself (wrong kind, undeclared field, value of the wrong
// type): an apiserver answers them with 400.
var ErrInvalidConfig = errors.New("invalid apply configuration")

// Config configures a Manager for the objects of one kind.
type Config struct {
	// APIVersion and Kind of the objects ("apps/v1", "Deployment");
	// required. An applied configuration must name both.
	APIVersion, Kind string
	// Type is the objects' schema type; the zero value is Deduced().
	Type typed.ParseableType
	// Empty is the unstructured form of an object with nothing set, the
	// state a create starts from (an encoded zero value of the Go type
	// keeps its non-omitempty fields). Default: only apiVersion and kind.
	Empty map[string]any
	// StatusSubresource says the kind has a status subresource: writes
	// through the main resource never own status fields, and writes
	// through the status subresource own nothing else.
	StatusSubresource bool
	// MaxUpdateManagers caps the number of Update entries; past it the
	// oldest are merged into one AncientChangesManager entry per
	// apiVersion. Default DefaultMaxUpdateManagers.
	MaxUpdateManagers int
	// Clock stamps entries' time. Default: the real clock.
	Clock clockwork.Clock
}

// Operation says who writes and through which subresource.
type Operation struct {
	// Manager is the field manager's name (for updates, the fieldManager
	// parameter or the User-Agent's product); "" is UnknownManager.
	Manager string
	// Subresource is "status", "scale", ... or "" for the resource itself.
	Subresource string
}

// Manager keeps metadata.managedFields of one kind's objects: it records
// which manager owns which fields on every write, and merges server-side
// apply configurations with conflict detection. It is safe for concurrent
// use.
//
// Objects are in unstructured JSON form (map[string]any, []any, string,
// int64, float64, bool, nil; see DecodeJSON) without
// metadata.managedFields, which travel separately as
// []store.ManagedFieldsEntry.
type Manager struct {
	cfg      Config
	version  fieldpath.APIVersion
	updaters map[string]*merge.Updater // by subresource; "" main, "*" others
	strip    *fieldpath.Set
	empty    *typed.TypedValue // Config.Empty, typed once (read-only)
}

// New returns a Manager for cfg.
func New(cfg Config) (*Manager, error) {
	if cfg.APIVersion == "" || cfg.Kind == "" {
		return nil, errors.New("fieldmanager: Config.APIVersion and Config.Kind are required")
	}
	if cfg.Type.Schema == nil {
		cfg.Type = Deduced()
	}
	if !cfg.Type.IsValid() {
		return nil, fmt.Errorf("fieldmanager: the schema type of %s %s is not valid", cfg.APIVersion, cfg.Kind)
	}
	if cfg.MaxUpdateManagers == 0 {
		cfg.MaxUpdateManagers = DefaultMaxUpdateManagers
	}
	if cfg.MaxUpdateManagers < 0 {
		return nil, fmt.Errorf("fieldmanager: Config.MaxUpdateManagers must not be negative, got %d", cfg.MaxUpdateManagers)
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Empty == nil {
		cfg.Empty = map[string]any{"apiVersion": cfg.APIVersion, "kind": cfg.Kind}
	}
	empty, err := cfg.Type.FromUnstructured(cfg.Empty, typed.AllowDuplicates)
	if err != nil {
		return nil, fmt.Errorf("fieldmanager: Config.Empty does not fit the schema of %s: %w", cfg.Kind, err)
	}
	m := &Manager{cfg: cfg, version: fieldpath.APIVersion(cfg.APIVersion), updaters: map[string]*merge.Updater{}, empty: empty}
	conv := versionConverter{version: m.version}
	m.updaters["*"] = &merge.Updater{Converter: conv}
	if cfg.StatusSubresource {
		status := fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
		m.updaters[""] = &merge.Updater{Converter: conv, IgnoreFilter: map[fieldpath.APIVersion]fieldpath.Filter{
			m.version: fieldpath.NewExcludeSetFilter(status)}}
		m.updaters["status"] = &merge.Updater{Converter: conv, IgnoreFilter: map[fieldpath.APIVersion]fieldpath.Filter{
			m.version: fieldpath.NewIncludeMatcherFilter(fieldpath.MakePrefixMatcherOrDie("status"))}}
	} else {
		m.updaters[""] = m.updaters["*"]
	}
	// The fields the server sets are nobody's.
	m.strip = fieldpath.NewSet(
		fieldpath.MakePathOrDie("apiVersion"),
		fieldpath.MakePathOrDie("kind"),
		fieldpath.MakePathOrDie("metadata"),
		fieldpath.MakePathOrDie("metadata", "name"),
		fieldpath.MakePathOrDie("metadata", "namespace"),
		fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
		fieldpath.MakePathOrDie("metadata", "selfLink"),
		fieldpath.MakePathOrDie("metadata", "uid"),
		fieldpath.MakePathOrDie("metadata", "generation"),
		fieldpath.MakePathOrDie("metadata", "managedFields"),
		fieldpath.MakePathOrDie("metadata", "resourceVersion"),
	)
	return m, nil
}

func (m *Manager) updater(subresource string) *merge.Updater {
	if u, ok := m.updaters[subresource]; ok {
		return u
	}
	return m.updaters["*"]
}

// versionConverter serves the one version a Manager knows; entries of
// other versions are dropped when the object is next written, as
// Kubernetes drops those of versions it no longer serves.
type versionConverter struct{ version fieldpath.APIVersion }

type missingVersion struct{ version fieldpath.APIVersion }

func (e missingVersion) Error() string { return fmt.Sprintf("apiVersion %q is not served", e.version) }

func (c versionConverter) Convert(obj *typed.TypedValue, v fieldpath.APIVersion) (*typed.TypedValue, error) {
	if v == c.version {
		return obj, nil
	}
	return nil, missingVersion{v}
}

func (versionConverter) IsMissingVersionError(err error) bool {
	var mv missingVersion
	return errors.As(err, &mv)
}

// Update records op's change from live to obj, the object about to be
// written (a create when live is nil), and returns obj's new
// managedFields: op's Update entry gains the fields it set or changed,
// other managers lose them, and removed fields are nobody's.
//
// liveFields are the stored object's entries; reqFields those the request
// sent. A request through the resource itself (not a subresource) may
// replace the entries: non-empty, decodable reqFields are taken as they
// are, and an empty list (or one empty entry) clears them. An existing
// object without entries stays without (Kubernetes tracks objects from
// their create or first apply on). live and obj must have only fields the
// schema declares (an error otherwise); their values' types are not
// checked, since they are the server's own objects.
func (m *Manager) Update(live, obj map[string]any, liveFields, reqFields []store.ManagedFieldsEntry, op Operation) ([]store.ManagedFieldsEntry, error) {
	base := newManaged()
	switch {
	case op.Subresource == "" && isReset(reqFields):
	case op.Subresource == "" && len(reqFields) > 0:
		if b, err := decodeManaged(reqFields); err == nil && len(b.fields) > 0 {
			base = b
			break
		}
		fallthrough
	default:
		if b, err := decodeManaged(liveFields); err == nil {
			base = b
		}
	}
	if live != nil && len(base.fields) == 0 {
		return nil, nil
	}
	if err := m.update(live, obj, &base, op, true); err != nil {
		return nil, err
	}
	return base.encode()
}

// currentOperation is the manager key an update is first recorded under,
// so that its own fields can be told from those it had before.
const currentOperation = "current-operation"

// update records op's change from live (nil: Config.Empty) to obj into mf.
// The objects come from the server's own types, so they are not
// validated first (a value that does not fit the schema still fails the
// comparison): that walk would be most of an update's cost.
func (m *Manager) update(live, obj map[string]any, mf *managed, op Operation, capManagers bool) error {
	lt := m.empty
	if live != nil {
		lt = m.unvalidated(live)
	}
	nt := m.unvalidated(obj)
	_, fields, err := m.updater(op.Subresource).Update(lt, nt, m.version, mf.fields, currentOperation)
	if err != nil {
		return fmt.Errorf("fieldmanager: %w", err)
	}
	name := op.Manager
	if name == "" {
		name = UnknownManager
	}
	id := managerID{Manager: name, Operation: OperationUpdate, APIVersion: m.cfg.APIVersion, Subresource: op.Subresource}.key()
	if vs, ok := fields[currentOperation]; ok {
		delete(fields, currentOperation)
		set := vs.Set()
		if prev, ok := fields[id]; ok {
			set = set.Union(prev.Set())
		}
		fields[id] = fieldpath.NewVersionedSet(set, m.version, false)
		now := store.NewTime(m.cfg.Clock.Now())
		mf.times[id] = &now
	}
	mf.fields = fields
	m.stripServerFields(mf)
	if capManagers {
		m.capUpdateManagers(mf)
	}
	return nil
}

func (m *Manager) unvalidated(obj map[string]any) *typed.TypedValue {
	return typed.AsTypedUnvalidated(value.NewValueInterface(obj), m.cfg.Type.Schema, m.cfg.Type.TypeRef)
}

// typedLive types a stored object; nil is Config.Empty.
func (m *Manager) typedLive(live map[string]any) (*typed.TypedValue, error) {
	if live == nil {
		return m.empty, nil
	}
	lt, err := m.cfg.Type.FromUnstructured(live, typed.AllowDuplicates)
	if err != nil {
		return nil, fmt.Errorf("fieldmanager: the stored %s does not fit its schema: %w", m.cfg.Kind, err)
	}
	return lt, nil
}

// stripServerFields removes the fields the server sets from every entry,
// and entries left empty.
func (m *Manager) stripServerFields(mf *managed) {
	for id, vs := range mf.fields {
		s := vs.Set().Difference(m.strip)
		if s.Empty() {
			delete(mf.fields, id)
			continue
		}
		mf.fields[id] = fieldpath.NewVersionedSet(s, vs.APIVersion(), vs.Applied())
	}
}

// capUpdateManagers folds the oldest Update entries into one
// AncientChangesManager entry per apiVersion until at most
// MaxUpdateManagers remain. Apply entries are never folded: each applier
// must keep its own fields to be able to remove them.
func (m *Manager) capUpdateManagers(mf *managed) {
	var updaters []string
	for id, vs := range mf.fields {
		if !vs.Applied() {
			updaters = append(updaters, id)
		}
	}
	if len(updaters) <= m.cfg.MaxUpdateManagers {
		return
	}
	sort.Slice(updaters, func(i, j int) bool {
		ti, tj := unix(mf.times[updaters[i]]), unix(mf.times[updaters[j]])
		if ti != tj {
			return ti < tj
		}
		return updaters[i] < updaters[j]
	})
	excess := len(updaters) - m.cfg.MaxUpdateManagers
	for _, id := range updaters {
		if excess <= 0 {
			break
		}
		vs := mf.fields[id]
		if vs == nil {
			continue // already folded into a bucket
		}
		bucket := managerID{Manager: AncientChangesManager, Operation: OperationUpdate, APIVersion: string(vs.APIVersion())}.key()
		if bucket == id {
			continue
		}
		set := vs.Set()
		had := mf.fields[bucket] != nil
		if had {
			set = set.Union(mf.fields[bucket].Set())
		}
		delete(mf.fields, id)
		mf.fields[bucket] = fieldpath.NewVersionedSet(set, vs.APIVersion(), false)
		if t := mf.times[id]; t != nil {
			mf.times[bucket] = t // the bucket is as new as the newest it holds
		}
		if had {
			excess-- // two entries became one; the first only renamed itself
		}
	}
}

// Apply merges config, an applied configuration, into live (nil when the
// object does not exist yet) as op's Apply manager, and returns the merged
// object (nil when it equals live) and its managedFields.
//
// The configuration must be an object of the Manager's apiVersion and kind
// without metadata.managedFields, and fit the schema; otherwise the error
// wraps ErrInvalidConfig. Fields the configuration sets to another value
// than the one owned by other managers are conflicts: without force Apply
// fails with a *ConflictError and changes nothing; with force op takes
// them over. Fields op applied before and leaves out now are removed
// unless another manager owns them.
//
// As in Kubernetes, the manager named "kubectl" may take over fields
// whose values still match the kubectl.kubernetes.io/last-applied-configuration
// annotation without force (an object managed with client-side apply
// moves to server-side apply), and keeps that annotation up to date.
func (m *Manager) Apply(live, config map[string]any, liveFields []store.ManagedFieldsEntry, op Operation, force bool) (map[string]any, []store.ManagedFieldsEntry, error) {
	if err := m.checkConfig(config); err != nil {
		return nil, nil, err
	}
	mf, err := decodeManaged(liveFields)
	if err != nil {
		return nil, nil, fmt.Errorf("fieldmanager: the stored managedFields: %w", err)
	}
	if live != nil && len(mf.fields) == 0 {
		// Fields set before tracking began get an owner, so that the
		// applier conflicts with them instead of silently taking them.
		if err := m.update(nil, live, &mf, Operation{Manager: BeforeFirstApplyManager, Subresource: op.Subresource}, false); err != nil {
			return nil, nil, err
		}
	}
	ct, err := m.cfg.Type.FromUnstructured(config)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	lt, err := m.typedLive(live)
	if err != nil {
		return nil, nil, err
	}
	id := managerID{Manager: op.Manager, Operation: OperationApply, Subresource: op.Subresource}.key()
	u := m.updater(op.Subresource)
	nt, fields, err := u.Apply(lt, ct, m.version, mf.fields.Copy(), id, force)
	var conflicts merge.Conflicts
	if errors.As(err, &conflicts) && op.Manager == lastAppliedManager {
		allowed := m.lastAppliedFields(live, lt)
		if rest := outside(conflicts, allowed); len(rest) > 0 {
			err = rest
		} else {
			nt, fields, err = u.Apply(lt, ct, m.version, mf.fields.Copy(), id, true)
		}
	}
	if err != nil {
		if errors.As(err, &conflicts) {
			return nil, nil, newConflictError(conflicts)
		}
		return nil, nil, fmt.Errorf("fieldmanager: %w", err)
	}
	mf.fields = fields
	var out map[string]any
	if nt != nil {
		u, ok := nt.AsValue().Unstructured().(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("fieldmanager: the merged %s is not an object", m.cfg.Kind)
		}
		out = u
		now := store.NewTime(m.cfg.Clock.Now())
		mf.times[id] = &now
	}
	if op.Manager == lastAppliedManager {
		if out, err = updateLastApplied(live, out, config); err != nil {
			return nil, nil, err
		}
	}
	m.stripServerFields(&mf)
	entries, err := mf.encode()
	if err != nil {
		return nil, nil, err
	}
	return out, entries, nil
}

// checkConfig checks what Apply needs of a configuration before merging.
func (m *Manager) checkConfig(config map[string]any) error {
	if config == nil {
		return fmt.Errorf("%w: the configuration must be an object", ErrInvalidConfig)
	}
	av, _ := config["apiVersion"].(string)
	kind, _ := config["kind"].(string)
	if av != m.cfg.APIVersion || kind != m.cfg.Kind {
		return fmt.Errorf("%w: the configuration's apiVersion %q and kind %q must be %q and %q", ErrInvalidConfig, av, kind, m.cfg.APIVersion, m.cfg.Kind)
	}
	if md, ok := config["metadata"].(map[string]any); ok {
		if _, has := md["managedFields"]; has {
			return fmt.Errorf("%w: metadata.managedFields must not be set in an applied configuration", ErrInvalidConfig)
		}
	} else if config["metadata"] != nil {
		return fmt.Errorf("%w: metadata must be an object", ErrInvalidConfig)
	}
	return nil
}
