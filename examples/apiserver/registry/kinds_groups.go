package registry

import (
	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/api/coordination"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

// The registry's kinds of the named groups.
var (
	// LeaseKind: leases (coordination.k8s.io/v1), the library's
	// election.Lease.
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
	// ControllerRevisionKind: controllerrevisions (apps/v1).
	ControllerRevisionKind = &Kind[*apps.ControllerRevision]{
		resource: apps.ControllerRevisionResource,
		singular: "controllerrevision",
		newObj:   func() *apps.ControllerRevision { return &apps.ControllerRevision{} }, fields: store.MetadataFields[*apps.ControllerRevision](true),
		validator: validateControllerRevision, updateCheck: validateControllerRevisionUpdate,
		table: controllerRevisionTable, schema: patch.SchemaFor[apps.ControllerRevision](),
	}
	// JobKind: jobs (batch/v1; status). A job without spec.manualSelector
	// gets a selector on its UID, and the matching template labels, as in
	// Kubernetes.
	JobKind = &Kind[*batch.Job]{
		resource: batch.JobResource,
		singular: "job", subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *batch.Job { return &batch.Job{} }, fields: jobFields(),
		defaulter: defaultJob, validator: validateJob, updateCheck: validateJobUpdate,
		prepareCreate: generateJobSelector,
		table:         jobTable, schema: patch.SchemaFor[batch.Job](),
	}
	// CronJobKind: cronjobs (batch/v1; short name cj; status).
	CronJobKind = &Kind[*batch.CronJob]{
		resource: batch.CronJobResource,
		singular: "cronjob", shortNames: []string{"cj"}, subresources: []string{"status"},
		categories: []string{"all"},
		newObj:     func() *batch.CronJob { return &batch.CronJob{} }, fields: store.MetadataFields[*batch.CronJob](true),
		defaulter: defaultCronJob, validator: validateCronJob,
		table: cronJobTable, schema: patch.SchemaFor[batch.CronJob](),
	}
	// EndpointSliceKind: endpointslices (discovery.k8s.io/v1).
	EndpointSliceKind = &Kind[*discovery.EndpointSlice]{
		resource: discovery.EndpointSliceResource,
		singular: "endpointslice",
		newObj:   func() *discovery.EndpointSlice { return &discovery.EndpointSlice{} }, fields: store.MetadataFields[*discovery.EndpointSlice](true),
		defaulter: defaultEndpointSlice, validator: validateEndpointSlice,
		table: endpointSliceTable, schema: patch.SchemaFor[discovery.EndpointSlice](),
	}
	// StorageClassKind: storageclasses (storage.k8s.io/v1, cluster-scoped;
	// short name sc).
	StorageClassKind = &Kind[*storage.StorageClass]{
		resource: storage.StorageClassResource,
		singular: "storageclass", shortNames: []string{"sc"},
		newObj: func() *storage.StorageClass { return &storage.StorageClass{} }, fields: store.MetadataFields[*storage.StorageClass](false),
		defaulter: defaultStorageClass, validator: validateStorageClass, updateCheck: validateStorageClassUpdate,
		table: storageClassTable, schema: patch.SchemaFor[storage.StorageClass](),
	}
	// PriorityClassKind: priorityclasses (scheduling.k8s.io/v1,
	// cluster-scoped; short name pc). The apiserver creates the two system
	// classes (SystemPriorityClasses) at startup.
	PriorityClassKind = &Kind[*scheduling.PriorityClass]{
		resource: scheduling.PriorityClassResource,
		singular: "priorityclass", shortNames: []string{"pc"},
		newObj: func() *scheduling.PriorityClass { return &scheduling.PriorityClass{} }, fields: store.MetadataFields[*scheduling.PriorityClass](false),
		defaulter: defaultPriorityClass, validator: validatePriorityClass, updateCheck: validatePriorityClassUpdate,
		table: priorityClassTable, schema: patch.SchemaFor[scheduling.PriorityClass](),
	}
	// PodDisruptionBudgetKind: poddisruptionbudgets (policy/v1; short name
	// pdb; status). Evictions (pods/eviction) honour them.
	PodDisruptionBudgetKind = &Kind[*policy.PodDisruptionBudget]{
		resource: policy.PodDisruptionBudgetResource,
		singular: "poddisruptionbudget", shortNames: []string{"pdb"}, subresources: []string{"status"},
		newObj: func() *policy.PodDisruptionBudget { return &policy.PodDisruptionBudget{} }, fields: store.MetadataFields[*policy.PodDisruptionBudget](true),
		validator: validatePodDisruptionBudget,
		table:     podDisruptionBudgetTable, schema: patch.SchemaFor[policy.PodDisruptionBudget](),
	}
	// EventsV1Kind: events (events.k8s.io/v1; short name ev): the objects
	// of core events in the events.k8s.io shape (the apiserver keeps them
	// once; see ToEventsV1 and FromEventsV1).
	EventsV1Kind = &Kind[*events.Event]{
		resource: events.EventResource,
		singular: "event", shortNames: []string{"ev"},
		newObj: func() *events.Event { return &events.Event{} }, fields: eventsV1Fields(),
		validator: validateEventsV1,
		table:     eventsV1Table, schema: patch.SchemaFor[events.Event](),
	}
	// CertificateSigningRequestKind: certificatesigningrequests
	// (certificates.k8s.io/v1, cluster-scoped; short name csr; status and
	// approval subresources). The status subresource sets the certificate
	// and conditions other than approval; approval sets the Approved or
	// Denied condition.
	CertificateSigningRequestKind = &Kind[*certificates.CertificateSigningRequest]{
		resource: certificates.CertificateSigningRequestResource,
		singular: "certificatesigningrequest", shortNames: []string{"csr"}, subresources: []string{"approval", "status"},
		newObj: func() *certificates.CertificateSigningRequest { return &certificates.CertificateSigningRequest{} }, fields: csrFields(),
		validator: validateCSR, updateCheck: validateCSRUpdate,
		table: csrTable, schema: patch.SchemaFor[certificates.CertificateSigningRequest](),
		statusUpdate: func(obj, old *certificates.CertificateSigningRequest) *certificates.CertificateSigningRequest {
			approvals := approvalConditions(old.Status.Conditions, true)
			old.Status = *obj.Status.DeepCopy()
			old.Status.Conditions = append(approvalConditions(old.Status.Conditions, false), approvals...)
			return old
		},
		subresourceUpdates: map[string]func(obj, old *certificates.CertificateSigningRequest) *certificates.CertificateSigningRequest{
			"approval": func(obj, old *certificates.CertificateSigningRequest) *certificates.CertificateSigningRequest {
				others := approvalConditions(old.Status.Conditions, false)
				old.Status.Conditions = append(others, approvalConditions(obj.Status.DeepCopy().Conditions, true)...)
				return old
			},
		},
	}
	// RoleKind: roles (rbac.authorization.k8s.io/v1). Served; enforcement
	// is the authorizer's.
	RoleKind = &Kind[*rbac.Role]{
		resource: rbac.RoleResource,
		singular: "role",
		newObj:   func() *rbac.Role { return &rbac.Role{} }, fields: store.MetadataFields[*rbac.Role](true),
		validator: validateRole, table: roleTable, schema: patch.SchemaFor[rbac.Role](),
	}
	// ClusterRoleKind: clusterroles (rbac.authorization.k8s.io/v1,
	// cluster-scoped).
	ClusterRoleKind = &Kind[*rbac.ClusterRole]{
		resource: rbac.ClusterRoleResource,
		singular: "clusterrole",
		newObj:   func() *rbac.ClusterRole { return &rbac.ClusterRole{} }, fields: store.MetadataFields[*rbac.ClusterRole](false),
		validator: validateClusterRole, table: clusterRoleTable, schema: patch.SchemaFor[rbac.ClusterRole](),
	}
	// RoleBindingKind: rolebindings (rbac.authorization.k8s.io/v1).
	RoleBindingKind = &Kind[*rbac.RoleBinding]{
		resource: rbac.RoleBindingResource,
		singular: "rolebinding",
		newObj:   func() *rbac.RoleBinding { return &rbac.RoleBinding{} }, fields: store.MetadataFields[*rbac.RoleBinding](true),
		defaulter: defaultRoleBinding, validator: validateRoleBinding, updateCheck: validateRoleBindingUpdate,
		table: roleBindingTable, schema: patch.SchemaFor[rbac.RoleBinding](),
	}
	// ClusterRoleBindingKind: clusterrolebindings
	// (rbac.authorization.k8s.io/v1, cluster-scoped).
	ClusterRoleBindingKind = &Kind[*rbac.ClusterRoleBinding]{
		resource: rbac.ClusterRoleBindingResource,
		singular: "clusterrolebinding",
		newObj:   func() *rbac.ClusterRoleBinding { return &rbac.ClusterRoleBinding{} }, fields: store.MetadataFields[*rbac.ClusterRoleBinding](false),
		defaulter: defaultClusterRoleBinding, validator: validateClusterRoleBinding, updateCheck: validateClusterRoleBindingUpdate,
		table: clusterRoleBindingTable, schema: patch.SchemaFor[rbac.ClusterRoleBinding](),
	}
)

// approvalConditions returns the Approved and Denied conditions of cs
// (approval true) or the others.
func approvalConditions(cs []certificates.CertificateSigningRequestCondition, approval bool) []certificates.CertificateSigningRequestCondition {
	var out []certificates.CertificateSigningRequestCondition
	for _, c := range cs {
		isApproval := c.Type == certificates.CertificateApproved || c.Type == certificates.CertificateDenied
		if isApproval == approval {
			out = append(out, c)
		}
	}
	return out
}
