package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// Labels the deployer puts on the Bases and Descriptions it writes,
// naming their Subscription.
const (
	LabelSubscriptionNamespace = "multicluster.setpoint.dev/subscription-namespace"
	LabelSubscriptionName      = "multicluster.setpoint.dev/subscription-name"
)

// Subscription condition types and reasons the deployer sets.
const (
	ConditionValid     = "Valid"
	ConditionScheduled = "Scheduled"
	ConditionDeployed  = "Deployed"

	ReasonInvalid        = "Invalid"
	ReasonFeedError      = "FeedError"
	ReasonNoCapacity     = "NoCapacity"
	ReasonNoClusters     = "NoClusters"
	ReasonScheduled      = "Scheduled"
	ReasonOverrideFailed = "OverrideFailed"
	ReasonApplyFailed    = "ApplyFailed"
	ReasonProgressing    = "Progressing"
	ReasonDeployed       = "Deployed"
)

// DefaultResyncPeriod is DeployerConfig.ResyncPeriod's default.
const DefaultResyncPeriod = 30 * time.Second

// DeployerConfig configures a Deployer.
type DeployerConfig struct {
	// Client reaches the parent apiserver, which must serve the
	// multicluster group (Kinds); required.
	Client *client.Clientset
	// Workers is how many Subscriptions are reconciled at once (default
	// 2).
	Workers int
	// ResyncPeriod is how often each Subscription is reconciled again
	// without a change, which re-reads its feeds from the parent (default
	// DefaultResyncPeriod; negative: never). It is a backstop: the
	// deployer watches every feed object, and a change of one reconciles
	// the Subscriptions naming it at once.
	ResyncPeriod time.Duration
	// Clock times retries and resyncs (default the real clock).
	Clock clockwork.Clock
	// Logger logs (default discard).
	Logger *slog.Logger
	// Registerer, if set, receives the controller's metrics.
	Registerer prometheus.Registerer
}

// Validate reports what is wrong with c.
func (c *DeployerConfig) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("hub deployer: Client is required")
	case c.Workers < 0:
		return fmt.Errorf("hub deployer: Workers %d is negative", c.Workers)
	}
	return nil
}

// Deployer is the hub's Subscription controller: for each Subscription it
// binds the ManagedClusters its subscribers select, shares the replicas
// among them (Replication or Dividing), renders a Base per cluster from
// the feeds and manifests, applies the Globalizations and then the
// Localizations that name each object, and writes the result as a
// Description, which the cluster's agent applies. It reports per-cluster
// progress in the Subscription's status.
type Deployer struct {
	cfg      DeployerConfig
	log      *slog.Logger
	subs     *informer.Informer[*mc.Subscription]
	clusters *informer.Informer[*mc.ManagedCluster]
	locs     *informer.Informer[*mc.Localization]
	globs    *informer.Informer[*mc.Globalization]
	bases    *informer.Informer[*mc.Base]
	descs    *informer.Informer[*mc.Description]
	subC     *rest.Client[*mc.Subscription]
	baseC    *rest.Client[*mc.Base]
	descC    *rest.Client[*mc.Description]
	feeds    *dynamic.Client
	watches  feedWatches
	ctrl     *reconcile.Controller[reconcile.Request]
}

const bySubscription = "subscription"

// NewDeployer checks cfg and builds the controller; it reaches no one.
func NewDeployer(cfg DeployerConfig) (*Deployer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.ResyncPeriod == 0 {
		cfg.ResyncPeriod = DefaultResyncPeriod
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deployer{cfg: cfg, log: cfg.Logger, feeds: dynamic.New(cfg.Client.HTTPClient(), cfg.Client.Server())}
	d.watches = feedWatches{d: d, byRef: map[dynamic.Ref]*feedWatch{}, bySub: map[string][]dynamic.Ref{}}
	var err error
	d.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "subscriptions", Reconciler: d, Workers: cfg.Workers,
		Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer})
	if err != nil {
		return nil, err
	}
	q := d.ctrl.Queue()
	all := func() []reconcile.Request {
		var keys []reconcile.Request
		for _, s := range d.subs.List() {
			keys = append(keys, reconcile.RequestFor(s))
		}
		return keys
	}
	owner := func(sub string) []reconcile.Request {
		ns, name, _ := strings.Cut(sub, "/")
		return []reconcile.Request{{Namespace: ns, Name: name}}
	}
	if d.subs, d.subC, err = typedInformer(d, mc.SubscriptionResource, nil, reconcile.EnqueueKey[*mc.Subscription](q)); err != nil {
		return nil, err
	}
	if d.clusters, _, err = typedInformer(d, mc.ManagedClusterResource, nil,
		reconcile.EnqueueMapped(q, func(*mc.ManagedCluster) []reconcile.Request { return all() })); err != nil {
		return nil, err
	}
	if d.locs, _, err = typedInformer(d, mc.LocalizationResource, nil,
		reconcile.EnqueueMapped(q, func(*mc.Localization) []reconcile.Request { return all() })); err != nil {
		return nil, err
	}
	if d.globs, _, err = typedInformer(d, mc.GlobalizationResource, nil,
		reconcile.EnqueueMapped(q, func(*mc.Globalization) []reconcile.Request { return all() })); err != nil {
		return nil, err
	}
	if d.bases, d.baseC, err = typedInformer(d, mc.BaseResource,
		map[string]informer.IndexFunc[*mc.Base]{bySubscription: func(b *mc.Base) []string { return []string{b.Spec.Subscription} }},
		reconcile.EnqueueMapped(q, func(b *mc.Base) []reconcile.Request { return owner(b.Spec.Subscription) })); err != nil {
		return nil, err
	}
	if d.descs, d.descC, err = typedInformer(d, mc.DescriptionResource,
		map[string]informer.IndexFunc[*mc.Description]{bySubscription: func(x *mc.Description) []string { return []string{x.Spec.Subscription} }},
		reconcile.EnqueueMapped(q, func(x *mc.Description) []reconcile.Request { return owner(x.Spec.Subscription) })); err != nil {
		return nil, err
	}
	return d, nil
}

func typedInformer[T store.Object](d *Deployer, res store.Resource, idx map[string]informer.IndexFunc[T], h informer.Handler[T]) (*informer.Informer[T], *rest.Client[T], error) {
	c, err := client.For[T](d.cfg.Client, res)
	if err != nil {
		return nil, nil, fmt.Errorf("hub deployer: %w", err)
	}
	inf, err := informer.New[T](c, informer.Config[T]{Name: "hub-" + res.Name, Indexers: idx, Clock: d.cfg.Clock, Logger: d.log})
	if err != nil {
		return nil, nil, fmt.Errorf("hub deployer: %s informer: %w", res.Name, err)
	}
	if _, err := inf.AddHandler(h); err != nil {
		return nil, nil, err
	}
	return inf, c, nil
}

// Run runs the informers and, once they have synced, the controller,
// until ctx ends; it returns nil then, or the first informer's error.
func (d *Deployer) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.subs.Run(ctx) })
	g.Go(func() error { return d.clusters.Run(ctx) })
	g.Go(func() error { return d.locs.Run(ctx) })
	g.Go(func() error { return d.globs.Run(ctx) })
	g.Go(func() error { return d.bases.Run(ctx) })
	g.Go(func() error { return d.descs.Run(ctx) })
	g.Go(func() error {
		for _, w := range []interface{ WaitForSync(context.Context) error }{d.subs, d.clusters, d.locs, d.globs, d.bases, d.descs} {
			if err := w.WaitForSync(ctx); err != nil {
				return nil // ctx ended
			}
		}
		d.watches.start(ctx)
		return d.ctrl.Run(ctx)
	})
	err := g.Wait()
	d.watches.stop()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// binding is one cluster a Subscription is bound to.
type binding struct {
	cluster *mc.ManagedCluster
	key     string // namespace/name
	weight  int64
}

// Reconcile brings the Bases and Descriptions of one Subscription in line
// with it, and writes its status.
func (d *Deployer) Reconcile(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
	subKey := key.String()
	cached, ok := d.subs.Get(key.Namespace, key.Name)
	if !ok || cached.DeletionTimestamp != nil {
		d.watches.set(subKey, nil)
		return reconcile.Result{}, d.prune(ctx, subKey, nil)
	}
	sub := cached.DeepCopy()
	sub.SetDefaults()
	st := mc.SubscriptionStatus{ObservedGeneration: sub.Generation}
	fail := func(typ, reason string, err error) (reconcile.Result, error) {
		st.Conditions = d.conditions(sub, api.Condition{Type: typ, Status: api.ConditionFalse, Reason: reason, Message: err.Error()})
		return reconcile.Result{}, d.writeStatus(ctx, sub, st)
	}
	if err := sub.Validate(); err != nil {
		d.watches.set(subKey, nil)
		return fail(ConditionValid, ReasonInvalid, err)
	}
	d.watches.set(subKey, refsOf(sub))
	// Bind the clusters: each cluster once, with the weight of the first
	// subscriber that selects it.
	var binds []binding
	seen := map[string]bool{}
	clusters := d.clusters.List()
	slices.SortFunc(clusters, func(a, b *mc.ManagedCluster) int { return strings.Compare(keyOf(a), keyOf(b)) })
	for i, s := range sub.Spec.Subscribers {
		sel, err := s.ClusterAffinity.Selector()
		if err != nil {
			return fail(ConditionValid, ReasonInvalid, fmt.Errorf("spec.subscribers[%d].clusterAffinity: %w", i, err))
		}
		for _, c := range clusters {
			if k := keyOf(c); !seen[k] && c.DeletionTimestamp == nil && sel.Matches(c.Labels) {
				seen[k] = true
				binds = append(binds, binding{cluster: c, key: k, weight: int64(s.Weight)})
			}
		}
	}
	for _, b := range binds {
		st.BindingClusters = append(st.BindingClusters, b.key)
	}
	// Render the objects.
	objs, err := d.render(ctx, sub)
	if err != nil {
		res, werr := fail(ConditionScheduled, ReasonFeedError, err)
		return res, errors.Join(werr, err) // retried: a feed may appear
	}
	// Share the replicas.
	perCluster, replicas, err := share(sub, binds, objs)
	if err != nil {
		return fail(ConditionScheduled, ReasonNoCapacity, err)
	}
	if len(binds) > 0 {
		st.Replicas = map[string]int32{}
		for i, b := range binds {
			if replicas != nil {
				st.Replicas[b.key] = replicas[i]
			}
		}
		if replicas == nil {
			st.Replicas = nil
		}
	}
	globs := d.globs.List()
	var failures []string
	var errs []error
	for i, b := range binds {
		prog := mc.ClusterProgress{Cluster: b.key, Phase: mc.DescriptionPending}
		final, err := d.overridden(b, perCluster[i], globs)
		if err != nil {
			prog.Phase, prog.Message = mc.DescriptionFailure, err.Error()
			failures = append(failures, b.key+": "+err.Error())
			st.Clusters = append(st.Clusters, prog)
			continue // nothing written for this cluster
		}
		if err := d.write(ctx, sub, b, perCluster[i], final); err != nil {
			errs = append(errs, err)
		}
		if x, ok := d.descs.Get(b.cluster.Namespace, objectName(sub)); ok && x.Status.Phase != "" && bytesEqual(x.Spec.Objects, final) {
			prog.Phase, prog.Message = x.Status.Phase, x.Status.Reason
			if x.Status.Phase == mc.DescriptionFailure {
				failures = append(failures, b.key+": "+x.Status.Reason)
			}
		}
		st.Clusters = append(st.Clusters, prog)
	}
	if err := d.prune(ctx, subKey, seen); err != nil {
		errs = append(errs, err)
	}
	conds := []api.Condition{
		{Type: ConditionValid, Status: api.ConditionTrue, Reason: "Valid", Message: "the subscription is valid"},
		{Type: ConditionScheduled, Status: api.ConditionTrue, Reason: ReasonScheduled, Message: fmt.Sprintf("bound to %d clusters", len(binds))},
	}
	if len(binds) == 0 {
		conds[1] = api.Condition{Type: ConditionScheduled, Status: api.ConditionFalse, Reason: ReasonNoClusters, Message: "no ManagedCluster matches the subscribers"}
	}
	deployed := api.Condition{Type: ConditionDeployed, Status: api.ConditionTrue, Reason: ReasonDeployed, Message: "every bound cluster applied its Description"}
	pending := 0
	for _, p := range st.Clusters {
		if p.Phase == mc.DescriptionPending {
			pending++
		}
	}
	switch {
	case len(failures) > 0:
		reason := ReasonApplyFailed
		if strings.Contains(strings.Join(failures, "\n"), "spec.overrides[") {
			reason = ReasonOverrideFailed
		}
		deployed = api.Condition{Type: ConditionDeployed, Status: api.ConditionFalse, Reason: reason, Message: strings.Join(failures, "; ")}
	case pending > 0 || len(binds) == 0:
		deployed = api.Condition{Type: ConditionDeployed, Status: api.ConditionFalse, Reason: ReasonProgressing,
			Message: fmt.Sprintf("%d of %d clusters have not applied their Description yet", pending, len(binds))}
	}
	st.Conditions = d.conditions(sub, append(conds, deployed)...)
	if err := d.writeStatus(ctx, sub, st); err != nil {
		errs = append(errs, err)
	}
	return reconcile.Result{RequeueAfter: max(d.cfg.ResyncPeriod, 0)}, errors.Join(errs...)
}

func keyOf(o store.Object) string {
	m := o.GetObjectMeta()
	return m.Namespace + "/" + m.Name
}

// objectName is the name of a Subscription's Base and Description in a
// cluster's namespace: "<namespace>.<name>" (namespaces hold no dots, so
// it is unambiguous).
func objectName(sub *mc.Subscription) string { return sub.Namespace + "." + sub.Name }

// conditions returns sub's conditions with the given ones set.
func (d *Deployer) conditions(sub *mc.Subscription, conds ...api.Condition) []api.Condition {
	return setConditions(sub.Status.Conditions, d.cfg.Clock.Now(), conds...)
}

// render returns the Subscription's objects: each feed read from the
// parent (server-set metadata and status dropped), then each manifest.
func (d *Deployer) render(ctx context.Context, sub *mc.Subscription) ([][]byte, error) {
	var out [][]byte
	for i, f := range sub.Spec.Feeds {
		data, err := d.feeds.Get(ctx, dynamic.Ref{APIVersion: f.APIVersion, Kind: f.Kind, Namespace: f.Namespace, Name: f.Name})
		if err != nil {
			return nil, fmt.Errorf("spec.feeds[%d]: %w", i, err)
		}
		clean, err := portable(data)
		if err != nil {
			return nil, fmt.Errorf("spec.feeds[%d]: %w", i, err)
		}
		out = append(out, clean)
	}
	for i, m := range sub.Spec.Manifests {
		clean, err := portable(m.Raw)
		if err != nil {
			return nil, fmt.Errorf("spec.manifests[%d]: %w", i, err)
		}
		out = append(out, clean)
	}
	return out, nil
}

// portable drops what the parent's apiserver set on an object (uid,
// resourceVersion, generation, creationTimestamp, managedFields,
// ownerReferences, finalizers, deletion fields) and its status: the child
// sets its own.
func portable(obj []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(obj, &m); err != nil || m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "ownerReferences",
			"finalizers", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"} {
			delete(md, k)
		}
	}
	return json.Marshal(m)
}

// share sets each cluster's replicas on its copy of the objects. Under
// Replication every cluster gets the objects as they are; under Dividing
// each object with spec.replicas has them split among the clusters, by
// the subscribers' weights (Static) or by how many replicas fit in each
// cluster's available resources (Dynamic). It returns each cluster's
// objects and, when some object has replicas, each cluster's replicas of
// the first such object.
func share(sub *mc.Subscription, binds []binding, objs [][]byte) ([][][]byte, []int32, error) {
	per := make([][][]byte, len(binds))
	var shown []int32
	for _, obj := range objs {
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil {
			return nil, nil, err
		}
		spec, _ := m["spec"].(map[string]any)
		total, hasReplicas := spec["replicas"].(float64)
		if !hasReplicas || sub.Spec.SchedulingStrategy != mc.Dividing {
			for i := range binds {
				per[i] = append(per[i], obj)
			}
			if hasReplicas && shown == nil {
				shown = make([]int32, len(binds))
				for i := range shown {
					shown[i] = int32(total)
				}
			}
			continue
		}
		weights := make([]int64, len(binds))
		for i, b := range binds {
			weights[i] = b.weight
		}
		if sub.Spec.DividingType == mc.DividingDynamic {
			req, err := replicaRequests(obj)
			if err != nil {
				return nil, nil, err
			}
			var sum int64
			for i, b := range binds {
				weights[i] = capacity(b.cluster, req)
				sum += weights[i]
			}
			if sum == 0 && len(binds) > 0 && total > 0 {
				ref, _ := dynamic.RefOf(obj)
				return nil, nil, fmt.Errorf("no bound cluster has available capacity for one replica of %s", ref)
			}
		}
		split := Divide(int32(total), weights)
		for i := range binds {
			spec["replicas"] = split[i]
			out, err := json.Marshal(m)
			if err != nil {
				return nil, nil, err
			}
			per[i] = append(per[i], out)
		}
		if shown == nil {
			shown = split
		}
	}
	return per, shown, nil
}

// overridden applies to a cluster's objects the Globalizations that
// select the cluster and then the cluster's Localizations, each set by
// priority.
func (d *Deployer) overridden(b binding, objs [][]byte, globs []*mc.Globalization) ([]api.RawExtension, error) {
	var gs, ls []override
	for _, g := range globs {
		if g.ClusterAffinity != nil {
			sel, err := g.ClusterAffinity.Selector()
			if err != nil {
				return nil, fmt.Errorf("globalization %s: clusterAffinity: %w", g.Name, err)
			}
			if !sel.Matches(b.cluster.Labels) {
				continue
			}
		}
		spec := *g.Spec.DeepCopy()
		spec.Priority = cmpOr(spec.Priority, mc.DefaultPriority)
		gs = append(gs, override{source: "globalization " + g.Name, priority: spec.Priority, name: g.Name, spec: spec})
	}
	for _, l := range d.locs.List() {
		if l.Namespace != b.cluster.Namespace {
			continue
		}
		spec := *l.Spec.DeepCopy()
		spec.Priority = cmpOr(spec.Priority, mc.DefaultPriority)
		ls = append(ls, override{source: "localization " + l.Namespace + "/" + l.Name, priority: spec.Priority, name: l.Name, spec: spec})
	}
	sortOverrides(gs)
	sortOverrides(ls)
	all := append(gs, ls...)
	out := make([]api.RawExtension, 0, len(objs))
	for _, obj := range objs {
		final, err := applyOverrides(obj, all)
		if err != nil {
			return nil, err
		}
		out = append(out, api.RawExtension{Raw: final})
	}
	return out, nil
}

func cmpOr(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// write creates or updates the cluster's Base (objs) and Description
// (final) of sub.
func (d *Deployer) write(ctx context.Context, sub *mc.Subscription, b binding, objs [][]byte, final []api.RawExtension) error {
	ns, name := b.cluster.Namespace, objectName(sub)
	labels := map[string]string{LabelSubscriptionNamespace: sub.Namespace, LabelSubscriptionName: sub.Name}
	subKey := sub.Namespace + "/" + sub.Name
	raw := make([]api.RawExtension, len(objs))
	for i, o := range objs {
		raw[i] = api.RawExtension{Raw: o}
	}
	base := &mc.Base{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: mc.BaseSpec{Subscription: subKey, Feeds: sub.Spec.Feeds, Objects: raw}}
	if cur, ok := d.bases.Get(ns, name); !ok {
		if _, err := d.baseC.Create(ctx, base); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("base %s/%s: %w", ns, name, err)
		}
	} else if !bytesEqual(cur.Spec.Objects, raw) || !slices.Equal(cur.Spec.Feeds, sub.Spec.Feeds) {
		upd := cur.DeepCopy()
		upd.Spec, upd.Labels = base.Spec, labels
		if _, err := d.baseC.Update(ctx, upd); err != nil {
			return fmt.Errorf("base %s/%s: %w", ns, name, err)
		}
	}
	desc := &mc.Description{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: mc.DescriptionSpec{Subscription: subKey, Objects: final}}
	if cur, ok := d.descs.Get(ns, name); !ok {
		if _, err := d.descC.Create(ctx, desc); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("description %s/%s: %w", ns, name, err)
		}
	} else if !bytesEqual(cur.Spec.Objects, final) {
		upd := cur.DeepCopy()
		upd.Spec, upd.Labels = desc.Spec, labels
		if _, err := d.descC.Update(ctx, upd); err != nil {
			return fmt.Errorf("description %s/%s: %w", ns, name, err)
		}
	}
	return nil
}

func bytesEqual(a, b []api.RawExtension) bool {
	return slices.EqualFunc(a, b, func(x, y api.RawExtension) bool { return bytes.Equal(x.Raw, y.Raw) })
}

// prune deletes the Bases and Descriptions of subscription subKey in the
// namespaces of clusters not in keep (all of them when keep is nil). The
// agents then remove the objects from their children.
func (d *Deployer) prune(ctx context.Context, subKey string, keep map[string]bool) error {
	var errs []error
	inCluster := func(ns string) bool {
		for k := range keep {
			if strings.HasPrefix(k, ns+"/") {
				return true
			}
		}
		return false
	}
	bases, _ := d.bases.ByIndex(bySubscription, subKey)
	for _, b := range bases {
		if !inCluster(b.Namespace) {
			if _, err := d.baseC.Delete(ctx, b.Namespace, b.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
		}
	}
	descs, _ := d.descs.ByIndex(bySubscription, subKey)
	for _, x := range descs {
		if !inCluster(x.Namespace) {
			if _, err := d.descC.Delete(ctx, x.Namespace, x.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// writeStatus writes st as sub's status if it changed.
func (d *Deployer) writeStatus(ctx context.Context, sub *mc.Subscription, st mc.SubscriptionStatus) error {
	cached, ok := d.subs.Get(sub.Namespace, sub.Name)
	if !ok {
		return nil
	}
	if statusEqual(cached.Status, st) {
		return nil
	}
	upd := cached.DeepCopy()
	upd.Status = st
	if _, err := d.subC.UpdateStatus(ctx, upd); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("subscription %s/%s status: %w", sub.Namespace, sub.Name, err)
	}
	return nil
}

func statusEqual(a, b mc.SubscriptionStatus) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
