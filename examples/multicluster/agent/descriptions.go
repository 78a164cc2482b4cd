package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Names the agent marks its work with.
const (
	// Finalizer holds a Description until the agent has removed its
	// objects from the child (multicluster.AgentFinalizer).
	Finalizer = mc.AgentFinalizer
	// AnnotationDescription, on an object the agent applied in the
	// child, names its Description as "<namespace>/<name>" in the parent.
	AnnotationDescription = "multicluster.setpoint.dev/description"
	// FieldManager is the agent's field manager for server-side apply in
	// the child.
	FieldManager = "setpoint-agent"
	// RecordNamespace holds, in the child, the agent's write-ahead record
	// of each Description: a ConfigMap named as the Description whose
	// RecordKey lists (JSON) every object the agent is about to apply or
	// has applied for it and not removed yet. It is written before the
	// objects are applied, so that an object applied just before the
	// agent stopped is still removed when the Description drops it while
	// the agent is down.
	RecordNamespace = "multicluster-agent"
	// RecordKey is the key of the record's list in its ConfigMap.
	RecordKey = "objects"
)

// syncer applies the Descriptions of the agent's cluster (pull mode).
type syncer struct {
	a     *Agent
	ns    string
	descs *informer.Informer[*mc.Description]
	descC *rest.Client[*mc.Description]
	child *dynamic.Client
	ctrl  *reconcile.Controller[reconcile.Request]

	// applied remembers, by Description, what the agent applied or is
	// about to apply (loaded from the write-ahead record in the child at
	// a Description's first pass), so that an object applied by a pass
	// whose status write was lost (a conflict with the hub's next
	// version), or by an earlier run of the agent, is still removed when
	// the Description stops holding it.
	mu       sync.Mutex
	applied  map[string]map[dynamic.Ref]bool
	recordNS bool // RecordNamespace exists
}

func newSyncer(a *Agent, parent *client.Clientset) (*syncer, error) {
	s := &syncer{a: a, ns: mc.ClusterNamespace(a.cfg.ClusterID), child: dynamic.New(a.child.HTTPClient(), a.child.Server()),
		applied: map[string]map[dynamic.Ref]bool{}}
	var err error
	if s.descC, err = client.For[*mc.Description](parent, mc.DescriptionResource); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if s.descs, err = informer.New[*mc.Description](s.descC, informer.Config[*mc.Description]{Name: "agent-descriptions", Namespace: s.ns,
		Clock: a.cfg.Clock, Logger: a.log}); err != nil {
		return nil, fmt.Errorf("agent: descriptions informer: %w", err)
	}
	if s.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "agent-descriptions", Reconciler: s, Clock: a.cfg.Clock, Logger: a.log}); err != nil {
		return nil, err
	}
	if _, err := s.descs.AddHandler(reconcile.EnqueueKey[*mc.Description](s.ctrl.Queue())); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *syncer) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.descs.Run(ctx) }()
	if err := s.descs.WaitForSync(ctx); err == nil {
		_ = s.ctrl.Run(ctx)
	}
	cancel()
	<-done
	return nil
}

// Reconcile applies one Description in the child: every object by
// server-side apply, marked with AnnotationDescription; it deletes what
// the Description's last status lists as applied but it no longer holds
// (or everything, once the Description is being deleted), and reports
// each object's result and status in the Description's status. Every
// HeartbeatPeriod it looks again, to refresh the objects' status.
func (s *syncer) Reconcile(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
	cached, ok := s.descs.Get(key.Namespace, key.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	d := cached.DeepCopy()
	owner := d.Namespace + "/" + d.Name
	if d.DeletionTimestamp != nil {
		if !slices.Contains(d.Finalizers, Finalizer) {
			return reconcile.Result{}, nil
		}
		var errs []error
		for _, o := range d.Status.Objects {
			if o.Applied {
				errs = append(errs, s.child.Delete(ctx, refOf(o.Feed)))
			}
		}
		for _, raw := range d.Spec.Objects {
			if r, err := dynamic.RefOf(raw.Raw); err == nil {
				errs = append(errs, s.child.Delete(ctx, r))
			}
		}
		if known, err := s.load(ctx, owner, d.Name); err != nil {
			errs = append(errs, err)
		} else {
			for r := range known {
				errs = append(errs, s.deleteOurs(ctx, r, owner))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return reconcile.Result{}, err
		}
		if err := s.a.child.ConfigMaps().DeleteNow(ctx, RecordNamespace, d.Name); ignoreGone(err) != nil {
			return reconcile.Result{}, fmt.Errorf("removing the agent's record of %s: %w", owner, err)
		}
		s.mu.Lock()
		delete(s.applied, owner)
		s.mu.Unlock()
		d.Finalizers = slices.DeleteFunc(d.Finalizers, func(f string) bool { return f == Finalizer })
		_, err := s.descC.Update(ctx, d)
		return reconcile.Result{}, ignoreGone(err)
	}
	if !slices.Contains(d.Finalizers, Finalizer) {
		d.Finalizers = append(d.Finalizers, Finalizer)
		_, err := s.descC.Update(ctx, d) // its event brings the Description back
		return reconcile.Result{}, ignoreGone(err)
	}
	// write ahead: the record lists every object before it is applied
	known, err := s.load(ctx, owner, d.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	grown := false
	for _, raw := range d.Spec.Objects {
		if r, err := dynamic.RefOf(raw.Raw); err == nil && !known[r] {
			known[r], grown = true, true
		}
	}
	if grown {
		if err := s.writeRecord(ctx, d.Name, known); err != nil {
			return reconcile.Result{}, err
		}
		s.setRemembered(owner, known)
	}
	st := mc.DescriptionStatus{Phase: mc.DescriptionSuccess}
	var failures []string
	held := map[dynamic.Ref]bool{}
	for i, raw := range d.Spec.Objects {
		os, ref := s.apply(ctx, raw.Raw, owner)
		if os.Feed.Kind == "" {
			os.Feed.Name = fmt.Sprintf("spec.objects[%d]", i)
		}
		held[ref] = true
		if os.Applied {
			s.remember(owner, ref, true)
		} else {
			failures = append(failures, fmt.Sprintf("%s: %s", refText(os.Feed), os.Message))
		}
		st.Objects = append(st.Objects, os)
	}
	// Remove what an earlier version held and this one does not: what
	// its status lists as applied, and what this process applied.
	earlier := s.remembered(owner)
	for _, o := range d.Status.Objects {
		if o.Applied && o.Feed.Kind != "" {
			earlier[refOf(o.Feed)] = true
		}
	}
	shrunk := false
	for r := range earlier {
		if held[r] {
			continue
		}
		if err := s.deleteOurs(ctx, r, owner); err != nil {
			// Keep it listed as applied, so the next pass retries.
			o := mc.ObjectStatus{Feed: mc.Feed{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name},
				Applied: true, Message: "not removed yet: " + err.Error()}
			st.Objects = append(st.Objects, o)
			failures = append(failures, fmt.Sprintf("%s: %s", r, o.Message))
			continue
		}
		s.remember(owner, r, false)
		shrunk = true
	}
	if shrunk {
		// what is listed and gone is harmless; keep the record short
		if err := s.writeRecord(ctx, d.Name, s.remembered(owner)); err != nil {
			s.a.log.Warn("writing the agent's record", "description", owner, "err", err)
		}
	}
	if len(failures) > 0 {
		st.Phase, st.Reason = mc.DescriptionFailure, strings.Join(failures, "; ")
	}
	if !statusEqual(d.Status, st) {
		d.Status = st
		if _, err := s.descC.UpdateStatus(ctx, d); err != nil {
			return reconcile.Result{}, ignoreGone(err)
		}
	}
	return reconcile.Result{RequeueAfter: s.a.cfg.HeartbeatPeriod}, nil
}

// remember records (or forgets) that this process applied r for the
// Description owner.
func (s *syncer) remember(owner string, r dynamic.Ref, applied bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.applied[owner]
	if m == nil {
		m = map[dynamic.Ref]bool{}
		s.applied[owner] = m
	}
	if applied {
		m[r] = true
	} else {
		delete(m, r)
	}
}

// load returns what the agent remembers for Description owner (named
// name), reading its write-ahead record from the child on the first call
// for it in this process.
func (s *syncer) load(ctx context.Context, owner, name string) (map[dynamic.Ref]bool, error) {
	s.mu.Lock()
	_, ok := s.applied[owner]
	s.mu.Unlock()
	if ok {
		return s.remembered(owner), nil
	}
	known := map[dynamic.Ref]bool{}
	cm, err := s.a.child.ConfigMaps().Get(ctx, RecordNamespace, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("reading the agent's record of %s: %w", owner, err)
	default:
		var refs []dynamic.Ref
		if err := json.Unmarshal([]byte(cm.Data[RecordKey]), &refs); err != nil {
			return nil, fmt.Errorf("the agent's record of %s (configmap %s/%s): %w", owner, RecordNamespace, name, err)
		}
		for _, r := range refs {
			known[r] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.applied[owner]; ok { // another pass loaded it first
		return maps.Clone(cur), nil
	}
	s.applied[owner] = maps.Clone(known)
	return known, nil
}

// setRemembered replaces what the agent remembers for owner.
func (s *syncer) setRemembered(owner string, refs map[dynamic.Ref]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied[owner] = maps.Clone(refs)
}

// writeRecord writes the record of Description name: refs, sorted.
func (s *syncer) writeRecord(ctx context.Context, name string, refs map[dynamic.Ref]bool) error {
	list := slices.SortedFunc(maps.Keys(refs), func(x, y dynamic.Ref) int { return strings.Compare(x.String(), y.String()) })
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	s.mu.Lock()
	nsReady := s.recordNS
	s.mu.Unlock()
	if !nsReady {
		ns := &api.Namespace{ObjectMeta: store.ObjectMeta{Name: RecordNamespace}}
		if _, err := s.a.child.Namespaces().Create(ctx, ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("creating namespace %s for the agent's records: %w", RecordNamespace, err)
		}
		s.mu.Lock()
		s.recordNS = true
		s.mu.Unlock()
	}
	cms := s.a.child.ConfigMaps()
	_, err = cms.GuaranteedUpdate(ctx, RecordNamespace, name, func(cm *api.ConfigMap) (*api.ConfigMap, error) {
		cm.Data = map[string]string{RecordKey: string(b)}
		return cm, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		_, err = cms.Create(ctx, &api.ConfigMap{ObjectMeta: store.ObjectMeta{Name: name, Namespace: RecordNamespace},
			Data: map[string]string{RecordKey: string(b)}})
		if errors.Is(err, store.ErrAlreadyExists) {
			return s.writeRecord(ctx, name, refs) // created meanwhile: update it
		}
	}
	if err != nil {
		return fmt.Errorf("writing the agent's record %s/%s: %w", RecordNamespace, name, err)
	}
	return nil
}

// deleteOurs deletes r from the child if it is there and marked as
// applied for owner (AnnotationDescription): an object the record lists
// but whose apply never happened, or that someone else made, is left.
func (s *syncer) deleteOurs(ctx context.Context, r dynamic.Ref, owner string) error {
	raw, err := s.child.Get(ctx, r)
	if err != nil {
		if ignoreGone(err) == nil {
			return nil
		}
		return err
	}
	var obj struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("%s: %w", r, err)
	}
	if obj.Metadata.Annotations[AnnotationDescription] != owner {
		return nil
	}
	return s.child.Delete(ctx, r)
}

// remembered returns a copy of what this process applied for owner.
func (s *syncer) remembered(owner string) map[dynamic.Ref]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(s.applied[owner])
	if out == nil {
		out = map[dynamic.Ref]bool{}
	}
	return out
}

// apply applies one object in the child, creating its namespace if need
// be, and returns its status entry.
func (s *syncer) apply(ctx context.Context, raw []byte, owner string) (mc.ObjectStatus, dynamic.Ref) {
	ref, err := dynamic.RefOf(raw)
	if err != nil {
		return mc.ObjectStatus{Message: err.Error()}, ref
	}
	os := mc.ObjectStatus{Feed: mc.Feed{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		os.Message = err.Error()
		return os, ref
	}
	md, _ := m["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	ann[AnnotationDescription] = owner
	md["annotations"] = ann
	body, err := json.Marshal(m)
	if err != nil {
		os.Message = err.Error()
		return os, ref
	}
	if ref.Namespace != "" {
		ns := &api.Namespace{ObjectMeta: store.ObjectMeta{Name: ref.Namespace}}
		if _, err := s.a.child.Namespaces().Create(ctx, ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			os.Message = fmt.Sprintf("creating namespace %s: %v", ref.Namespace, err)
			return os, ref
		}
	}
	out, err := s.child.Apply(ctx, body, FieldManager)
	if err != nil {
		os.Message = err.Error()
		return os, ref
	}
	os.Applied = true
	var got struct {
		Status json.RawMessage `json:"status"`
	}
	if json.Unmarshal(out, &got) == nil && len(got.Status) > 0 && !bytes.Equal(got.Status, []byte("null")) && !bytes.Equal(got.Status, []byte("{}")) {
		os.Status = api.RawExtension{Raw: got.Status}
	}
	return os, ref
}

func refOf(f mc.Feed) dynamic.Ref {
	return dynamic.Ref{APIVersion: f.APIVersion, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name}
}

func refText(f mc.Feed) string {
	if f.Kind == "" {
		return f.Name
	}
	return refOf(f).String()
}

func ignoreGone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func statusEqual(a, b mc.DescriptionStatus) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
