package client

import (
	"errors"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
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
	"github.com/setpoint-dev/setpoint/store/rest"
)

// typed holds a client of every resource the example apiserver serves.
type typed struct {
	namespaces                 *rest.Client[*api.Namespace]
	nodes                      *rest.Client[*api.Node]
	pods                       *rest.Client[*api.Pod]
	services                   *rest.Client[*api.Service]
	endpoints                  *rest.Client[*api.Endpoints]
	events                     *rest.Client[*api.Event]
	resourceQuotas             *rest.Client[*api.ResourceQuota]
	limitRanges                *rest.Client[*api.LimitRange]
	configMaps                 *rest.Client[*api.ConfigMap]
	secrets                    *rest.Client[*api.Secret]
	serviceAccounts            *rest.Client[*api.ServiceAccount]
	replicationControllers     *rest.Client[*api.ReplicationController]
	podTemplates               *rest.Client[*api.PodTemplate]
	persistentVolumes          *rest.Client[*api.PersistentVolume]
	persistentVolumeClaims     *rest.Client[*api.PersistentVolumeClaim]
	leases                     *rest.Client[*election.Lease]
	replicaSets                *rest.Client[*apps.ReplicaSet]
	deployments                *rest.Client[*apps.Deployment]
	statefulSets               *rest.Client[*apps.StatefulSet]
	daemonSets                 *rest.Client[*apps.DaemonSet]
	controllerRevisions        *rest.Client[*apps.ControllerRevision]
	jobs                       *rest.Client[*batch.Job]
	cronJobs                   *rest.Client[*batch.CronJob]
	endpointSlices             *rest.Client[*discovery.EndpointSlice]
	storageClasses             *rest.Client[*storage.StorageClass]
	priorityClasses            *rest.Client[*scheduling.PriorityClass]
	podDisruptionBudgets       *rest.Client[*policy.PodDisruptionBudget]
	eventsV1                   *rest.Client[*events.Event]
	certificateSigningRequests *rest.Client[*certificates.CertificateSigningRequest]
	roles                      *rest.Client[*rbac.Role]
	roleBindings               *rest.Client[*rbac.RoleBinding]
	clusterRoles               *rest.Client[*rbac.ClusterRole]
	clusterRoleBindings        *rest.Client[*rbac.ClusterRoleBinding]
}

// newTyped builds the typed clients through c.
func newTyped(c *Clientset) error {
	var errs []error
	t := &c.typed
	errs = append(errs, mk(c, &t.namespaces, api.NamespaceResource))
	errs = append(errs, mk(c, &t.nodes, api.NodeResource))
	errs = append(errs, mk(c, &t.pods, api.PodResource))
	errs = append(errs, mk(c, &t.services, api.ServiceResource))
	errs = append(errs, mk(c, &t.endpoints, api.EndpointsResource))
	errs = append(errs, mk(c, &t.events, api.EventResource))
	errs = append(errs, mk(c, &t.resourceQuotas, api.ResourceQuotaResource))
	errs = append(errs, mk(c, &t.limitRanges, api.LimitRangeResource))
	errs = append(errs, mk(c, &t.configMaps, api.ConfigMapResource))
	errs = append(errs, mk(c, &t.secrets, api.SecretResource))
	errs = append(errs, mk(c, &t.serviceAccounts, api.ServiceAccountResource))
	errs = append(errs, mk(c, &t.replicationControllers, api.ReplicationControllerResource))
	errs = append(errs, mk(c, &t.podTemplates, api.PodTemplateResource))
	errs = append(errs, mk(c, &t.persistentVolumes, api.PersistentVolumeResource))
	errs = append(errs, mk(c, &t.persistentVolumeClaims, api.PersistentVolumeClaimResource))
	errs = append(errs, mk(c, &t.leases, coordination.LeaseResource))
	errs = append(errs, mk(c, &t.replicaSets, apps.ReplicaSetResource))
	errs = append(errs, mk(c, &t.deployments, apps.DeploymentResource))
	errs = append(errs, mk(c, &t.statefulSets, apps.StatefulSetResource))
	errs = append(errs, mk(c, &t.daemonSets, apps.DaemonSetResource))
	errs = append(errs, mk(c, &t.controllerRevisions, apps.ControllerRevisionResource))
	errs = append(errs, mk(c, &t.jobs, batch.JobResource))
	errs = append(errs, mk(c, &t.cronJobs, batch.CronJobResource))
	errs = append(errs, mk(c, &t.endpointSlices, discovery.EndpointSliceResource))
	errs = append(errs, mk(c, &t.storageClasses, storage.StorageClassResource))
	errs = append(errs, mk(c, &t.priorityClasses, scheduling.PriorityClassResource))
	errs = append(errs, mk(c, &t.podDisruptionBudgets, policy.PodDisruptionBudgetResource))
	errs = append(errs, mk(c, &t.eventsV1, events.EventResource))
	errs = append(errs, mk(c, &t.certificateSigningRequests, certificates.CertificateSigningRequestResource))
	errs = append(errs, mk(c, &t.roles, rbac.RoleResource))
	errs = append(errs, mk(c, &t.roleBindings, rbac.RoleBindingResource))
	errs = append(errs, mk(c, &t.clusterRoles, rbac.ClusterRoleResource))
	errs = append(errs, mk(c, &t.clusterRoleBindings, rbac.ClusterRoleBindingResource))
	return errors.Join(errs...)
}

func mk[T store.Object](c *Clientset, dst **rest.Client[T], res store.Resource) error {
	var err error
	*dst, err = For[T](c, res)
	return err
}

// Namespaces returns the client of namespaces (v1).
func (c *Clientset) Namespaces() *rest.Client[*api.Namespace] { return c.namespaces }

// Nodes returns the client of nodes (v1).
func (c *Clientset) Nodes() *rest.Client[*api.Node] { return c.nodes }

// Pods returns the client of pods (v1).
func (c *Clientset) Pods() *rest.Client[*api.Pod] { return c.pods }

// Services returns the client of services (v1).
func (c *Clientset) Services() *rest.Client[*api.Service] { return c.services }

// Endpoints returns the client of endpoints (v1).
func (c *Clientset) Endpoints() *rest.Client[*api.Endpoints] { return c.endpoints }

// Events returns the client of events (v1).
func (c *Clientset) Events() *rest.Client[*api.Event] { return c.events }

// ResourceQuotas returns the client of resourcequotas (v1).
func (c *Clientset) ResourceQuotas() *rest.Client[*api.ResourceQuota] { return c.resourceQuotas }

// LimitRanges returns the client of limitranges (v1).
func (c *Clientset) LimitRanges() *rest.Client[*api.LimitRange] { return c.limitRanges }

// ConfigMaps returns the client of configmaps (v1).
func (c *Clientset) ConfigMaps() *rest.Client[*api.ConfigMap] { return c.configMaps }

// Secrets returns the client of secrets (v1).
func (c *Clientset) Secrets() *rest.Client[*api.Secret] { return c.secrets }

// ServiceAccounts returns the client of serviceaccounts (v1).
func (c *Clientset) ServiceAccounts() *rest.Client[*api.ServiceAccount] { return c.serviceAccounts }

// ReplicationControllers returns the client of replicationcontrollers (v1).
func (c *Clientset) ReplicationControllers() *rest.Client[*api.ReplicationController] {
	return c.replicationControllers
}

// PodTemplates returns the client of podtemplates (v1).
func (c *Clientset) PodTemplates() *rest.Client[*api.PodTemplate] { return c.podTemplates }

// PersistentVolumes returns the client of persistentvolumes (v1).
func (c *Clientset) PersistentVolumes() *rest.Client[*api.PersistentVolume] {
	return c.persistentVolumes
}

// PersistentVolumeClaims returns the client of persistentvolumeclaims (v1).
func (c *Clientset) PersistentVolumeClaims() *rest.Client[*api.PersistentVolumeClaim] {
	return c.persistentVolumeClaims
}

// Leases returns the client of leases (coordination.k8s.io/v1).
func (c *Clientset) Leases() *rest.Client[*election.Lease] { return c.leases }

// ReplicaSets returns the client of replicasets (apps/v1).
func (c *Clientset) ReplicaSets() *rest.Client[*apps.ReplicaSet] { return c.replicaSets }

// Deployments returns the client of deployments (apps/v1).
func (c *Clientset) Deployments() *rest.Client[*apps.Deployment] { return c.deployments }

// StatefulSets returns the client of statefulsets (apps/v1).
func (c *Clientset) StatefulSets() *rest.Client[*apps.StatefulSet] { return c.statefulSets }

// DaemonSets returns the client of daemonsets (apps/v1).
func (c *Clientset) DaemonSets() *rest.Client[*apps.DaemonSet] { return c.daemonSets }

// ControllerRevisions returns the client of controllerrevisions (apps/v1).
func (c *Clientset) ControllerRevisions() *rest.Client[*apps.ControllerRevision] {
	return c.controllerRevisions
}

// Jobs returns the client of jobs (batch/v1).
func (c *Clientset) Jobs() *rest.Client[*batch.Job] { return c.jobs }

// CronJobs returns the client of cronjobs (batch/v1).
func (c *Clientset) CronJobs() *rest.Client[*batch.CronJob] { return c.cronJobs }

// EndpointSlices returns the client of endpointslices (discovery.k8s.io/v1).
func (c *Clientset) EndpointSlices() *rest.Client[*discovery.EndpointSlice] { return c.endpointSlices }

// StorageClasses returns the client of storageclasses (storage.k8s.io/v1).
func (c *Clientset) StorageClasses() *rest.Client[*storage.StorageClass] { return c.storageClasses }

// PriorityClasses returns the client of priorityclasses (scheduling.k8s.io/v1).
func (c *Clientset) PriorityClasses() *rest.Client[*scheduling.PriorityClass] {
	return c.priorityClasses
}

// PodDisruptionBudgets returns the client of poddisruptionbudgets (policy/v1).
func (c *Clientset) PodDisruptionBudgets() *rest.Client[*policy.PodDisruptionBudget] {
	return c.podDisruptionBudgets
}

// EventsV1 returns the client of events in the events.k8s.io/v1 shape (the same objects as Events).
func (c *Clientset) EventsV1() *rest.Client[*events.Event] { return c.eventsV1 }

// CertificateSigningRequests returns the client of certificatesigningrequests (certificates.k8s.io/v1).
func (c *Clientset) CertificateSigningRequests() *rest.Client[*certificates.CertificateSigningRequest] {
	return c.certificateSigningRequests
}

// Roles returns the client of roles (rbac.authorization.k8s.io/v1).
func (c *Clientset) Roles() *rest.Client[*rbac.Role] { return c.roles }

// RoleBindings returns the client of rolebindings (rbac.authorization.k8s.io/v1).
func (c *Clientset) RoleBindings() *rest.Client[*rbac.RoleBinding] { return c.roleBindings }

// ClusterRoles returns the client of clusterroles (rbac.authorization.k8s.io/v1).
func (c *Clientset) ClusterRoles() *rest.Client[*rbac.ClusterRole] { return c.clusterRoles }

// ClusterRoleBindings returns the client of clusterrolebindings (rbac.authorization.k8s.io/v1).
func (c *Clientset) ClusterRoleBindings() *rest.Client[*rbac.ClusterRoleBinding] {
	return c.clusterRoleBindings
}
