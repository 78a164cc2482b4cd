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
)

// syncer applies the Descriptions of the agent's cluster (pull mode).
type syncer struct {
	a     *Agent
	ns    string
	descs *informer.Informer[*mc.Description]
	descC *rest.Client[*mc.Description]
	child *dynamic.Client
	ctrl  *reconcile.Controller[reconcile.Request]

	// applied remembers, by Description, what this process applied, so
	// that an object applied by a pass whose status write was lost (a
	// conflict with the hub's next version) is still removed when the
	// Description stops holding it.
	mu      sync.Mutex
	applied map[string]map[dynamic.Ref]bool
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
		for r := range s.remembered(owner) {
			errs = append(errs, s.child.Delete(ctx, r))
		}
		if err := errors.Join(errs...); err != nil {
			return reconcile.Result{}, err
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
	for r := range earlier {
		if held[r] {
			continue
		}
		if err := s.child.Delete(ctx, r); err != nil {
			// Keep it listed as applied, so the next pass retries.
			o := mc.ObjectStatus{Feed: mc.Feed{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name},
				Applied: true, Message: "not removed yet: " + err.Error()}
			st.Objects = append(st.Objects, o)
			failures = append(failures, fmt.Sprintf("%s: %s", r, o.Message))
			continue
		}
		s.remember(owner, r, false)
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
