package api

import (
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// The registry: one Kind per served resource.
var (
	// NamespaceKind: namespaces (v1, cluster-scoped; short name ns).
	NamespaceKind = &Kind[*Namespace]{
		resource: Resource{Name: "namespaces", APIVersion: "v1", Kind: "Namespace"},
		singular: "namespace", shortNames: []string{"ns"}, subresources: []string{"status"},
		newObj: func() *Namespace { return &Namespace{} }, fields: namespaceFields(),
		defaulter: defaultNamespace, validator: validateNamespace,
		createStatus: func(n *Namespace) { n.Status.Phase = NamespaceActive },
		table:        namespaceTable, schema: patch.SchemaFor[Namespace](),
	}
	// NodeKind: nodes (v1, cluster-scoped; short name no).
	NodeKind = &Kind[*Node]{
		resource: Resource{Name: "nodes", APIVersion: "v1", Kind: "Node"},
		singular: "node", shortNames: []string{"no"}, subresources: []string{"status"},
		newObj: func() *Node { return &Node{} }, fields: nodeFields(),
		validator: validateNode, table: nodeTable, schema: patch.SchemaFor[Node](),
		keepStatusOnCreate: true,
	}
	// PodKind: pods (v1; short name po; status and binding subresources).
	PodKind = &Kind[*Pod]{
		resource: Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true},
		singular: "pod", shortNames: []string{"po"}, subresources: []string{"binding", "status"},
		categories: []string{"all"},
		newObj:     func() *Pod { return &Pod{} }, fields: podFields(),
		defaulter: defaultPod, validator: validatePod, updateCheck: validatePodUpdate,
		createStatus: func(p *Pod) { p.Status.Phase = PodPending },
		table:        podTable, schema: patch.SchemaFor[Pod](),
	}
	// ServiceKind: services (v1; short name svc).
	ServiceKind = &Kind[*Service]{
		resource: Resource{Name: "services", APIVersion: "v1", Kind: "Service", Namespaced: true},
		singular: "service", shortNames: []string{"svc"}, subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *Service { return &Service{} }, fields: serviceFields(),
		defaulter: defaultService, validator: validateService, updateCheck: validateServiceUpdate,
		table: serviceTable, schema: patch.SchemaFor[Service](),
	}
	// EndpointsKind: endpoints (v1; short name ep).
	EndpointsKind = &Kind[*Endpoints]{
		resource: Resource{Name: "endpoints", APIVersion: "v1", Kind: "Endpoints", Namespaced: true},
		singular: "endpoints", shortNames: []string{"ep"},
		newObj: func() *Endpoints { return &Endpoints{} }, fields: metaFields[*Endpoints](true),
		defaulter: defaultEndpoints, validator: validateEndpoints,
		table: endpointsTable, schema: patch.SchemaFor[Endpoints](),
	}
	// EventKind: events (v1; short name ev).
	EventKind = &Kind[*Event]{
		resource: Resource{Name: "events", APIVersion: "v1", Kind: "Event", Namespaced: true},
		singular: "event", shortNames: []string{"ev"},
		newObj: func() *Event { return &Event{} }, fields: eventFields(),
		defaulter: defaultEvent, validator: validateEvent,
		table: eventTable, schema: patch.SchemaFor[Event](),
	}
	// ResourceQuotaKind: resourcequotas (v1; short name quota).
	ResourceQuotaKind = &Kind[*ResourceQuota]{
		resource: Resource{Name: "resourcequotas", APIVersion: "v1", Kind: "ResourceQuota", Namespaced: true},
		singular: "resourcequota", shortNames: []string{"quota"}, subresources: []string{"status"},
		newObj: func() *ResourceQuota { return &ResourceQuota{} }, fields: metaFields[*ResourceQuota](true),
		validator: validateResourceQuota, table: resourceQuotaTable, schema: patch.SchemaFor[ResourceQuota](),
	}
	// LeaseKind: leases (coordination.k8s.io/v1).
	LeaseKind = &Kind[*Lease]{
		resource: Resource{Name: "leases", APIVersion: "coordination.k8s.io/v1", Kind: "Lease", Namespaced: true},
		singular: "lease",
		newObj:   func() *Lease { return &Lease{} }, fields: metaFields[*Lease](true),
		validator: validateLease, table: leaseTable, schema: patch.SchemaFor[Lease](),
	}
	// ReplicaSetKind: replicasets (apps/v1; short name rs; status, scale).
	ReplicaSetKind = &Kind[*ReplicaSet]{
		resource: Resource{Name: "replicasets", APIVersion: "apps/v1", Kind: "ReplicaSet", Namespaced: true},
		singular: "replicaset", shortNames: []string{"rs"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *ReplicaSet { return &ReplicaSet{} }, fields: replicaSetFields(),
		defaulter: defaultReplicaSet, validator: validateReplicaSet, updateCheck: validateReplicaSetUpdate,
		table: replicaSetTable, schema: patch.SchemaFor[ReplicaSet](),
		scale: func(r *ReplicaSet) *Scale {
			return newScale(&r.ObjectMeta, r.Spec.Replicas, r.Status.Replicas, r.Spec.Selector)
		},
		setReplicas: func(r *ReplicaSet, n int32) { r.Spec.Replicas = &n },
	}
	// DeploymentKind: deployments (apps/v1; short name deploy; status, scale).
	DeploymentKind = &Kind[*Deployment]{
		resource: Resource{Name: "deployments", APIVersion: "apps/v1", Kind: "Deployment", Namespaced: true},
		singular: "deployment", shortNames: []string{"deploy"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *Deployment { return &Deployment{} }, fields: metaFields[*Deployment](true),
		defaulter: defaultDeployment, validator: validateDeployment, updateCheck: validateDeploymentUpdate,
		table: deploymentTable, schema: patch.SchemaFor[Deployment](),
		scale: func(d *Deployment) *Scale {
			return newScale(&d.ObjectMeta, d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector)
		},
		setReplicas: func(d *Deployment, n int32) { d.Spec.Replicas = &n },
	}
	// StatefulSetKind: statefulsets (apps/v1; short name sts; status, scale).
	StatefulSetKind = &Kind[*StatefulSet]{
		resource: Resource{Name: "statefulsets", APIVersion: "apps/v1", Kind: "StatefulSet", Namespaced: true},
		singular: "statefulset", shortNames: []string{"sts"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *StatefulSet { return &StatefulSet{} }, fields: metaFields[*StatefulSet](true),
		defaulter: defaultStatefulSet, validator: validateStatefulSet, updateCheck: validateStatefulSetUpdate,
		table: statefulSetTable, schema: patch.SchemaFor[StatefulSet](),
		scale: func(s *StatefulSet) *Scale {
			return newScale(&s.ObjectMeta, s.Spec.Replicas, s.Status.Replicas, s.Spec.Selector)
		},
		setReplicas: func(s *StatefulSet, n int32) { s.Spec.Replicas = &n },
	}
	// DaemonSetKind: daemonsets (apps/v1; short name ds; status). Like
	// Kubernetes, daemon sets have no scale subresource.
	DaemonSetKind = &Kind[*DaemonSet]{
		resource: Resource{Name: "daemonsets", APIVersion: "apps/v1", Kind: "DaemonSet", Namespaced: true},
		singular: "daemonset", shortNames: []string{"ds"}, subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *DaemonSet { return &DaemonSet{} }, fields: metaFields[*DaemonSet](true),
		defaulter: defaultDaemonSet, validator: validateDaemonSet, updateCheck: validateDaemonSetUpdate,
		table: daemonSetTable, schema: patch.SchemaFor[DaemonSet](),
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
func newScale(meta *store.ObjectMeta, spec *int32, status int32, sel *LabelSelector) *Scale {
	s := &Scale{}
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
