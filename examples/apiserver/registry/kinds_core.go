package registry

import (
	"slices"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// The registry: one Kind per served resource. This file holds the core
// (v1) kinds; kinds_groups.go the other groups'.
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
		defaulter: defaultNode, validator: validateNode, table: nodeTable, schema: patch.SchemaFor[api.Node](),
		keepStatusOnCreate: true,
	}
	// PodKind: pods (v1; short name po; binding, eviction and status
	// subresources).
	PodKind = &Kind[*api.Pod]{
		resource: api.PodResource,
		singular: "pod", shortNames: []string{"po"}, subresources: []string{"binding", "eviction", "status"},
		categories: []string{"all"},
		newObj:     func() *api.Pod { return &api.Pod{} }, fields: podFields(),
		defaulter: defaultPod, validator: validatePod, updateCheck: validatePodUpdate,
		createStatus: func(p *api.Pod) { p.Status.Phase, p.Status.QOSClass = api.PodPending, podQOS(&p.Spec) },
		table:        podTable, schema: patch.SchemaFor[api.Pod](),
		gracePeriod: podGracePeriod,
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
	// EventKind: events (v1; short name ev). events.k8s.io/v1 serves the
	// same objects (EventsV1Kind).
	EventKind = &Kind[*api.Event]{
		resource: api.EventResource,
		singular: "event", shortNames: []string{"ev"},
		newObj: func() *api.Event { return &api.Event{} }, fields: eventFields(),
		validator: validateEvent,
		table:     eventTable, schema: patch.SchemaFor[api.Event](),
	}
	// ResourceQuotaKind: resourcequotas (v1; short name quota).
	ResourceQuotaKind = &Kind[*api.ResourceQuota]{
		resource: api.ResourceQuotaResource,
		singular: "resourcequota", shortNames: []string{"quota"}, subresources: []string{"status"},
		newObj: func() *api.ResourceQuota { return &api.ResourceQuota{} }, fields: store.MetadataFields[*api.ResourceQuota](true),
		defaulter: defaultResourceQuota, validator: validateResourceQuota, table: resourceQuotaTable, schema: patch.SchemaFor[api.ResourceQuota](),
	}
	// LimitRangeKind: limitranges (v1; short name limits).
	LimitRangeKind = &Kind[*api.LimitRange]{
		resource: api.LimitRangeResource,
		singular: "limitrange", shortNames: []string{"limits"},
		newObj: func() *api.LimitRange { return &api.LimitRange{} }, fields: store.MetadataFields[*api.LimitRange](true),
		defaulter: defaultLimitRange, validator: validateLimitRange, table: limitRangeTable, schema: patch.SchemaFor[api.LimitRange](),
	}
	// ConfigMapKind: configmaps (v1; short name cm).
	ConfigMapKind = &Kind[*api.ConfigMap]{
		resource: api.ConfigMapResource,
		singular: "configmap", shortNames: []string{"cm"},
		newObj: func() *api.ConfigMap { return &api.ConfigMap{} }, fields: store.MetadataFields[*api.ConfigMap](true),
		validator: validateConfigMap, updateCheck: validateConfigMapUpdate, table: configMapTable, schema: patch.SchemaFor[api.ConfigMap](),
	}
	// SecretKind: secrets (v1; field label type).
	SecretKind = &Kind[*api.Secret]{
		resource: api.SecretResource,
		singular: "secret",
		newObj:   func() *api.Secret { return &api.Secret{} }, fields: secretFields(),
		defaulter: defaultSecret, validator: validateSecret, updateCheck: validateSecretUpdate, table: secretTable, schema: patch.SchemaFor[api.Secret](),
	}
	// ServiceAccountKind: serviceaccounts (v1; short name sa).
	ServiceAccountKind = &Kind[*api.ServiceAccount]{
		resource: api.ServiceAccountResource,
		singular: "serviceaccount", shortNames: []string{"sa"},
		newObj: func() *api.ServiceAccount { return &api.ServiceAccount{} }, fields: store.MetadataFields[*api.ServiceAccount](true),
		validator: validateServiceAccount, table: serviceAccountTable, schema: patch.SchemaFor[api.ServiceAccount](),
	}
	// ReplicationControllerKind: replicationcontrollers (v1; short name rc;
	// status and scale subresources).
	ReplicationControllerKind = &Kind[*api.ReplicationController]{
		resource: api.ReplicationControllerResource,
		singular: "replicationcontroller", shortNames: []string{"rc"}, subresources: []string{"scale", "status"},
		categories: []string{"all"},
		newObj:     func() *api.ReplicationController { return &api.ReplicationController{} }, fields: replicationControllerFields(),
		defaulter: defaultReplicationController, validator: validateReplicationController,
		table: replicationControllerTable, schema: patch.SchemaFor[api.ReplicationController](),
		scale: func(rc *api.ReplicationController) *autoscaling.Scale {
			s := newScale(&rc.ObjectMeta, rc.Spec.Replicas, rc.Status.Replicas, nil)
			s.Status.Selector = mapSelectorText(rc.Spec.Selector)
			return s
		},
		setReplicas: func(rc *api.ReplicationController, n int32) { rc.Spec.Replicas = &n },
	}
	// PodTemplateKind: podtemplates (v1).
	PodTemplateKind = &Kind[*api.PodTemplate]{
		resource: api.PodTemplateResource,
		singular: "podtemplate",
		newObj:   func() *api.PodTemplate { return &api.PodTemplate{} }, fields: store.MetadataFields[*api.PodTemplate](true),
		defaulter: defaultPodTemplate, validator: validatePodTemplate, table: podTemplateTable, schema: patch.SchemaFor[api.PodTemplate](),
	}
	// PersistentVolumeKind: persistentvolumes (v1, cluster-scoped; short
	// name pv).
	PersistentVolumeKind = &Kind[*api.PersistentVolume]{
		resource: api.PersistentVolumeResource,
		singular: "persistentvolume", shortNames: []string{"pv"}, subresources: []string{"status"},
		newObj: func() *api.PersistentVolume { return &api.PersistentVolume{} }, fields: persistentVolumeFields(),
		defaulter: defaultPersistentVolume, validator: validatePersistentVolume, updateCheck: validatePersistentVolumeUpdate,
		createStatus: func(pv *api.PersistentVolume) { pv.Status.Phase = api.VolumePending },
		table:        persistentVolumeTable, schema: patch.SchemaFor[api.PersistentVolume](),
	}
	// PersistentVolumeClaimKind: persistentvolumeclaims (v1; short name pvc).
	PersistentVolumeClaimKind = &Kind[*api.PersistentVolumeClaim]{
		resource: api.PersistentVolumeClaimResource,
		singular: "persistentvolumeclaim", shortNames: []string{"pvc"}, subresources: []string{"status"},
		newObj: func() *api.PersistentVolumeClaim { return &api.PersistentVolumeClaim{} }, fields: persistentVolumeClaimFields(),
		defaulter: defaultPersistentVolumeClaim, validator: validatePersistentVolumeClaim, updateCheck: validatePersistentVolumeClaimUpdate,
		createStatus: func(pvc *api.PersistentVolumeClaim) { pvc.Status.Phase = api.ClaimPending },
		table:        persistentVolumeClaimTable, schema: patch.SchemaFor[api.PersistentVolumeClaim](),
	}
)

// mapSelectorText is a map selector in the text syntax, keys sorted.
func mapSelectorText(sel map[string]string) string {
	keys := sortedKeys(sel)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

// Kinds returns every registered resource, core group first, then by group
// and name.
func Kinds() []Descriptor {
	all := []Descriptor{NamespaceKind, NodeKind, PodKind, ServiceKind, EndpointsKind, EventKind,
		ResourceQuotaKind, LimitRangeKind, ConfigMapKind, SecretKind, ServiceAccountKind,
		ReplicationControllerKind, PodTemplateKind, PersistentVolumeKind, PersistentVolumeClaimKind,
		LeaseKind, ReplicaSetKind, DeploymentKind, StatefulSetKind, DaemonSetKind, ControllerRevisionKind,
		JobKind, CronJobKind, EndpointSliceKind, StorageClassKind, PriorityClassKind, PodDisruptionBudgetKind,
		EventsV1Kind, CertificateSigningRequestKind, RoleKind, ClusterRoleKind, RoleBindingKind, ClusterRoleBindingKind}
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
func Lookup(name string) (Descriptor, bool) { return lookup(Kinds(), name) }

func lookup(kinds []Descriptor, name string) (Descriptor, bool) {
	n := strings.ToLower(name)
	group := ""
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n, group = n[:i], n[i+1:]
	}
	for _, d := range kinds {
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
	return Default().LookupResource(apiVersion, plural)
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
