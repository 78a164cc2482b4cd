package registry

import (
	"slices"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/examples/api/coordination"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// The registry: one Kind per served resource.
var (
	// NamespaceKind: namespaces (v1, cluster-scoped; short name ns).
	NamespaceKind = &Kind[*api.Namespace]{
		resource: api.NamespaceResource,
		singular: "namespace", shortNames: []string{"ns"}, subresources: []string{"status"},
		newObj: func() *api.Namespace { return &api.Namespace{} }, fields: namespaceFields(),
		defaulter: defaultNamespace, validator: validateNamespace, updateCheck: validateNamespaceUpdate,
		createStatus: func(n *api.Namespace) { n.Status.Phase = api.NamespaceActive },
		// As Kubernetes: every namespace starts with the finalizer the
		// namespace controller removes once it is empty, and only the
		// finalize subresource changes spec.finalizers.
		prepareCreate: func(n *api.Namespace) { n.Spec.Finalizers = []api.FinalizerName{api.FinalizerKubernetes} },
		prepareUpdate: func(n, old *api.Namespace) { n.Spec.Finalizers = slices.Clone(old.Spec.Finalizers) },
		table:         namespaceTable, schema: patch.SchemaFor[api.Namespace](),
	}
	// NodeKind: nodes (v1, cluster-scoped; short name no).
	NodeKind = &Kind[*api.Node]{
		resource: api.NodeResource,
		singular: "node", shortNames: []string{"no"}, subresources: []string{"status"},
		newObj: func() *api.Node { return &api.Node{} }, fields: nodeFields(),
		validator: validateNode, table: nodeTable, schema: patch.SchemaFor[api.Node](),
		keepStatusOnCreate: true,
	}
	// PodKind: pods (v1; short name po; status and binding subresources).
	PodKind = &Kind[*api.Pod]{
		resource: api.PodResource,
		singular: "pod", shortNames: []string{"po"}, subresources: []string{"binding", "status"},
		categories: []string{"all"},
		newObj:     func() *api.Pod { return &api.Pod{} }, fields: podFields(),
		defaulter: defaultPod, validator: validatePod, updateCheck: validatePodUpdate,
		createStatus: func(p *api.Pod) { p.Status.Phase = api.PodPending },
		table:        podTable, schema: patch.SchemaFor[api.Pod](),
	}
	// ServiceKind: services (v1; short name svc).
	ServiceKind = &Kind[*api.Service]{
		resource: api.ServiceResource,
		singular: "service", shortNames: []string{"svc"}, subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *api.Service { return &api.Service{} }, fields: serviceFields(),
		defaulter: defaultService, validator: validateService, updateCheck: validateServiceUpdate,
		table: serviceTable, schema: patch.SchemaFor[api.Service](),
	}
	// EndpointsKind: endpoints (v1; short name ep).
	EndpointsKind = &Kind[*api.Endpoints]{
		resource: api.EndpointsResource,
		singular: "endpoints", shortNames: []string{"ep"},
		newObj: func() *api.Endpoints { return &api.Endpoints{} }, fields: store.MetadataFields[*api.Endpoints](true),
		defaulter: defaultEndpoints, validator: validateEndpoints,
		table: endpointsTable, schema: patch.SchemaFor[api.Endpoints](),
	}
	// EventKind: events (v1; short name ev).
	EventKind = &Kind[*api.Event]{
		resource: api.EventResource,
		singular: "event", shortNames: []string{"ev"},
		newObj: func() *api.Event { return &api.Event{} }, fields: eventFields(),
		defaulter: defaultEvent, validator: validateEvent,
		table: eventTable, schema: patch.SchemaFor[api.Event](),
	}
	// ResourceQuotaKind: resourcequotas (v1; short name quota).
	ResourceQuotaKind = &Kind[*api.ResourceQuota]{
		resource: api.ResourceQuotaResource,
		singular: "resourcequota", shortNames: []string{"quota"}, subresources: []string{"status"},
		newObj: func() *api.ResourceQuota { return &api.ResourceQuota{} }, fields: store.MetadataFields[*api.ResourceQuota](true),
		validator: validateResourceQuota, table: resourceQuotaTable, schema: patch.SchemaFor[api.ResourceQuota](),
	}
	// LeaseKind: leases (coordination.k8s.io/v1).
	LeaseKind = &Kind[*election.Lease]{
		resource: coordination.LeaseResource,
		singular: "lease",
		newObj:   func() *election.Lease { return &election.Lease{} }, fields: store.MetadataFields[*election.Lease](true),
		validator: validateLease, table: leaseTable, schema: patch.SchemaFor[election.Lease](),
	}
	// ReplicaSetKind: replicasets (apps/v1; short name rs; status, scale).
	ReplicaSetKind = &Kind[*apps.ReplicaSet]{
		resource: apps.ReplicaSetResource,
		singular: "replicaset", shortNames: []string{"rs"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *apps.ReplicaSet { return &apps.ReplicaSet{} }, fields: replicaSetFields(),
		defaulter: defaultReplicaSet, validator: validateReplicaSet, updateCheck: validateReplicaSetUpdate,
		table: replicaSetTable, schema: patch.SchemaFor[apps.ReplicaSet](),
		scale: func(r *apps.ReplicaSet) *autoscaling.Scale {
			return newScale(&r.ObjectMeta, r.Spec.Replicas, r.Status.Replicas, r.Spec.Selector)
		},
		setReplicas: func(r *apps.ReplicaSet, n int32) { r.Spec.Replicas = &n },
	}
	// DeploymentKind: deployments (apps/v1; short name deploy; status, scale).
	DeploymentKind = &Kind[*apps.Deployment]{
		resource: apps.DeploymentResource,
		singular: "deployment", shortNames: []string{"deploy"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *apps.Deployment { return &apps.Deployment{} }, fields: store.MetadataFields[*apps.Deployment](true),
		defaulter: defaultDeployment, validator: validateDeployment, updateCheck: validateDeploymentUpdate,
		table: deploymentTable, schema: patch.SchemaFor[apps.Deployment](),
		scale: func(d *apps.Deployment) *autoscaling.Scale {
			return newScale(&d.ObjectMeta, d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector)
		},
		setReplicas: func(d *apps.Deployment, n int32) { d.Spec.Replicas = &n },
	}
	// StatefulSetKind: statefulsets (apps/v1; short name sts; status, scale).
	StatefulSetKind = &Kind[*apps.StatefulSet]{
		resource: apps.StatefulSetResource,
		singular: "statefulset", shortNames: []string{"sts"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *apps.StatefulSet { return &apps.StatefulSet{} }, fields: store.MetadataFields[*apps.StatefulSet](true),
		defaulter: defaultStatefulSet, validator: validateStatefulSet, updateCheck: validateStatefulSetUpdate,
		table: statefulSetTable, schema: patch.SchemaFor[apps.StatefulSet](),
		scale: func(s *apps.StatefulSet) *autoscaling.Scale {
			return newScale(&s.ObjectMeta, s.Spec.Replicas, s.Status.Replicas, s.Spec.Selector)
		},
		setReplicas: func(s *apps.StatefulSet, n int32) { s.Spec.Replicas = &n },
	}
	// DaemonSetKind: daemonsets (apps/v1; short name ds; status). Like
	// Kubernetes, daemon sets have no scale subresource.
	DaemonSetKind = &Kind[*apps.DaemonSet]{
		resource: apps.DaemonSetResource,
		singular: "daemonset", shortNames: []string{"ds"}, subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *apps.DaemonSet { return &apps.DaemonSet{} }, fields: store.MetadataFields[*apps.DaemonSet](true),
		defaulter: defaultDaemonSet, validator: validateDaemonSet, updateCheck: validateDaemonSetUpdate,
		table: daemonSetTable, schema: patch.SchemaFor[apps.DaemonSet](),
	}
)

// Kinds returns every registered resource, core group first, then by group
// and name.
func Kinds() []Descriptor {
	all := []Descriptor{NamespaceKind, NodeKind, PodKind, ServiceKind, EndpointsKind, EventKind,
		ResourceQuotaKind, LeaseKind, ReplicaSetKind, DeploymentKind, StatefulSetKind, DaemonSetKind}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].Resource(), all[j].Resource()
		if groupOf(a) != groupOf(b) {
			return groupOf(a) < groupOf(b)
		}
		return a.Name < b.Name
	})
	return all
}

// Lookup finds a resource by plural name, singular name, short name or kind
// (case-insensitive), optionally qualified by group ("deployments.apps").
func Lookup(name string) (Descriptor, bool) {
	n := strings.ToLower(name)
	group := ""
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n, group = n[:i], n[i+1:]
	}
	for _, d := range Kinds() {
		r := d.Resource()
		if group != "" && groupOf(r) != group {
			continue
		}
		if n == r.Name || n == d.Singular() || n == strings.ToLower(r.Kind) {
			return d, true
		}
		for _, s := range d.ShortNames() {
			if n == s {
				return d, true
			}
		}
	}
	return nil, false
}

// LookupResource finds a resource by apiVersion and plural name, as a URL
// names it (/apis/apps/v1/.../deployments).
func LookupResource(apiVersion, plural string) (Descriptor, bool) {
	for _, d := range Kinds() {
		if r := d.Resource(); r.APIVersion == apiVersion && r.Name == plural {
			return d, true
		}
	}
	return nil, false
}

// newScale builds a Scale from a workload's metadata, replicas and selector.
func newScale(meta *store.ObjectMeta, spec *int32, status int32, sel *api.LabelSelector) *autoscaling.Scale {
	s := &autoscaling.Scale{}
	s.APIVersion, s.Kind = "autoscaling/v1", "Scale"
	s.Name, s.Namespace, s.UID, s.ResourceVersion = meta.Name, meta.Namespace, meta.UID, meta.ResourceVersion
	s.CreationTimestamp = meta.CreationTimestamp
	if spec != nil {
		s.Spec.Replicas = *spec
	}
	s.Status.Replicas = status
	if sel != nil {
		s.Status.Selector, _ = sel.SelectorString()
	}
	return s
}
