package api_test

import (
	"fmt"
	"time"

	"sigs.k8s.io/randfill"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apidiscovery"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/api/coordination"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/examples/api/metrics"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/store"
)

// message is what every generated kind provides.
type message interface {
	Size() int
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// kind makes a new zero object of one generated kind.
type kind struct {
	name string
	new  func() message
}

func kindOf[T any, PT interface {
	*T
	message
}](name string) kind {
	return kind{name, func() message { return PT(new(T)) }}
}

// kinds is every kind the generator covers, and its list.
var kinds = []kind{
	kindOf[api.Pod]("Pod"), kindOf[api.PodList]("PodList"),
	kindOf[api.Node]("Node"), kindOf[api.NodeList]("NodeList"),
	kindOf[api.Namespace]("Namespace"), kindOf[api.NamespaceList]("NamespaceList"),
	kindOf[api.Service]("Service"), kindOf[api.ServiceList]("ServiceList"),
	kindOf[api.Endpoints]("Endpoints"), kindOf[api.EndpointsList]("EndpointsList"),
	kindOf[api.Event]("Event"), kindOf[api.EventList]("EventList"),
	kindOf[api.ResourceQuota]("ResourceQuota"), kindOf[api.ResourceQuotaList]("ResourceQuotaList"),
	kindOf[api.LimitRange]("LimitRange"), kindOf[api.LimitRangeList]("LimitRangeList"),
	kindOf[api.ConfigMap]("ConfigMap"), kindOf[api.ConfigMapList]("ConfigMapList"),
	kindOf[api.Secret]("Secret"), kindOf[api.SecretList]("SecretList"),
	kindOf[api.ServiceAccount]("ServiceAccount"), kindOf[api.ServiceAccountList]("ServiceAccountList"),
	kindOf[api.ReplicationController]("ReplicationController"), kindOf[api.ReplicationControllerList]("ReplicationControllerList"),
	kindOf[api.PersistentVolume]("PersistentVolume"), kindOf[api.PersistentVolumeList]("PersistentVolumeList"),
	kindOf[api.PersistentVolumeClaim]("PersistentVolumeClaim"), kindOf[api.PersistentVolumeClaimList]("PersistentVolumeClaimList"),
	kindOf[api.PodTemplate]("PodTemplate"), kindOf[api.PodTemplateList]("PodTemplateList"),
	kindOf[api.Binding]("Binding"),
	kindOf[apps.Deployment]("Deployment"), kindOf[apps.DeploymentList]("DeploymentList"),
	kindOf[apps.ReplicaSet]("ReplicaSet"), kindOf[apps.ReplicaSetList]("ReplicaSetList"),
	kindOf[apps.StatefulSet]("StatefulSet"), kindOf[apps.StatefulSetList]("StatefulSetList"),
	kindOf[apps.DaemonSet]("DaemonSet"), kindOf[apps.DaemonSetList]("DaemonSetList"),
	kindOf[apps.ControllerRevision]("ControllerRevision"), kindOf[apps.ControllerRevisionList]("ControllerRevisionList"),
	kindOf[batch.Job]("Job"), kindOf[batch.JobList]("JobList"),
	kindOf[batch.CronJob]("CronJob"), kindOf[batch.CronJobList]("CronJobList"),
	kindOf[autoscaling.Scale]("Scale"),
	kindOf[discovery.EndpointSlice]("EndpointSlice"), kindOf[discovery.EndpointSliceList]("EndpointSliceList"),
	kindOf[storage.StorageClass]("StorageClass"), kindOf[storage.StorageClassList]("StorageClassList"),
	kindOf[scheduling.PriorityClass]("PriorityClass"), kindOf[scheduling.PriorityClassList]("PriorityClassList"),
	kindOf[policy.PodDisruptionBudget]("PodDisruptionBudget"), kindOf[policy.PodDisruptionBudgetList]("PodDisruptionBudgetList"),
	kindOf[policy.Eviction]("Eviction"),
	kindOf[events.Event]("events.Event"), kindOf[events.EventList]("events.EventList"),
	kindOf[certificates.CertificateSigningRequest]("CertificateSigningRequest"),
	kindOf[certificates.CertificateSigningRequestList]("CertificateSigningRequestList"),
	kindOf[rbac.Role]("Role"), kindOf[rbac.RoleList]("RoleList"),
	kindOf[rbac.ClusterRole]("ClusterRole"), kindOf[rbac.ClusterRoleList]("ClusterRoleList"),
	kindOf[rbac.RoleBinding]("RoleBinding"), kindOf[rbac.RoleBindingList]("RoleBindingList"),
	kindOf[rbac.ClusterRoleBinding]("ClusterRoleBinding"), kindOf[rbac.ClusterRoleBindingList]("ClusterRoleBindingList"),
	{"Lease", func() message { return new(leaseMessage) }}, kindOf[coordination.LeaseList]("LeaseList"),
	kindOf[authentication.TokenRequest]("TokenRequest"),
	kindOf[authentication.TokenReview]("TokenReview"),
	kindOf[authentication.SelfSubjectReview]("SelfSubjectReview"),
	kindOf[authorization.SubjectAccessReview]("SubjectAccessReview"),
	kindOf[authorization.SelfSubjectAccessReview]("SelfSubjectAccessReview"),
	kindOf[authorization.LocalSubjectAccessReview]("LocalSubjectAccessReview"),
	kindOf[authorization.SelfSubjectRulesReview]("SelfSubjectRulesReview"),
	kindOf[metrics.NodeMetrics]("NodeMetrics"), kindOf[metrics.NodeMetricsList]("NodeMetricsList"),
	kindOf[metrics.PodMetrics]("PodMetrics"), kindOf[metrics.PodMetricsList]("PodMetricsList"),
	kindOf[apidiscovery.APIGroupDiscovery]("APIGroupDiscovery"),
	kindOf[apidiscovery.APIGroupDiscoveryList]("APIGroupDiscoveryList"),
}

// leaseMessage gives election.Lease, which the library leaves free of
// protobuf, the generated methods through package coordination's codec.
type leaseMessage struct{ election.Lease }

func (l *leaseMessage) Size() int                { return coordination.SizeLease(&l.Lease) }
func (l *leaseMessage) Marshal() ([]byte, error) { return coordination.MarshalLease(&l.Lease) }
func (l *leaseMessage) Unmarshal(b []byte) error { return coordination.UnmarshalLease(b, &l.Lease) }
func (l *leaseMessage) MarshalTo(b []byte) (int, error) {
	return coordination.MarshalLeaseToSizedBuffer(b[:l.Size()], &l.Lease)
}
func (l *leaseMessage) DeepCopy() *leaseMessage {
	if l == nil {
		return nil
	}
	return &leaseMessage{*l.Lease.DeepCopy()}
}

// filler makes random objects whose every value both encodings carry:
// times in whole seconds (microseconds for MicroTime), quantities in
// canonical form, valid JSON in raw fields, no apiVersion and kind (which
// protobuf leaves to its envelope).
func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(1, 2).MaxDepth(24).Funcs(
		func(q *api.Quantity, c randfill.Continue) {
			suffixes := []string{"", "m", "k", "M", "Ki", "Mi", "Gi"}
			*q = api.MustParse(fmt.Sprintf("%d%s", 1+c.Intn(999), suffixes[c.Intn(len(suffixes))]))
		},
		func(v *api.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = api.FromString(c.String(8))
			} else {
				*v = api.FromInt(c.Int31())
			}
		},
		func(t *store.Time, c randfill.Continue) { t.Time = time.Unix(1_600_000_000+c.Int63n(1e8), 0).UTC() },
		func(t *store.MicroTime, c randfill.Continue) {
			t.Time = time.Unix(1_600_000_000+c.Int63n(1e8), int64(c.Intn(1e6))*1000).UTC()
		},
		func(d *api.Duration, c randfill.Continue) { d.Duration = time.Duration(c.Int63()) },
		func(r *api.RawExtension, c randfill.Continue) { r.Raw = []byte(fmt.Sprintf(`{"n":%d}`, c.Intn(100))) },
		func(f *store.FieldsV1, c randfill.Continue) { f.Raw = []byte(`{"f:metadata":{}}`) },
		func(m *store.TypeMeta, c randfill.Continue) {},
		func(m *map[string][]byte, c randfill.Continue) {
			*m = map[string][]byte{c.String(6): []byte(c.String(10)), c.String(6): {}}
		},
	)
}
