package main

// The differential test of the generated API types (examples/api):
// for every kind, random objects encoded by us in JSON and protobuf decode
// with k8s.io/api into the same object, and k8s.io/api's encodings decode
// with ours into the same object, so that no field is lost or renamed. The
// protobuf bytes are also compared: both sides must write the same bytes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	"sigs.k8s.io/randfill"

	"github.com/setpoint-dev/setpoint/election"
	api "github.com/setpoint-dev/setpoint/examples/api"
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

// protoObject is what both sides' generated code provides.
type protoObject interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

type kindPair struct {
	name         string
	ours, theirs func() protoObject
}

func pairOf[O, T any, PO interface {
	*O
	protoObject
}, PT interface {
	*T
	protoObject
}](name string) kindPair {
	return kindPair{name, func() protoObject { return PO(new(O)) }, func() protoObject { return PT(new(T)) }}
}

// diffKinds is every kind the generated types cover, and its list.
var diffKinds = []kindPair{
	pairOf[api.Pod, corev1.Pod]("Pod"), pairOf[api.PodList, corev1.PodList]("PodList"),
	pairOf[api.Node, corev1.Node]("Node"), pairOf[api.NodeList, corev1.NodeList]("NodeList"),
	pairOf[api.Namespace, corev1.Namespace]("Namespace"), pairOf[api.NamespaceList, corev1.NamespaceList]("NamespaceList"),
	pairOf[api.Service, corev1.Service]("Service"), pairOf[api.ServiceList, corev1.ServiceList]("ServiceList"),
	pairOf[api.Endpoints, corev1.Endpoints]("Endpoints"), pairOf[api.EndpointsList, corev1.EndpointsList]("EndpointsList"),
	pairOf[api.Event, corev1.Event]("Event"), pairOf[api.EventList, corev1.EventList]("EventList"),
	pairOf[api.ResourceQuota, corev1.ResourceQuota]("ResourceQuota"), pairOf[api.ResourceQuotaList, corev1.ResourceQuotaList]("ResourceQuotaList"),
	pairOf[api.LimitRange, corev1.LimitRange]("LimitRange"), pairOf[api.LimitRangeList, corev1.LimitRangeList]("LimitRangeList"),
	pairOf[api.ConfigMap, corev1.ConfigMap]("ConfigMap"), pairOf[api.ConfigMapList, corev1.ConfigMapList]("ConfigMapList"),
	pairOf[api.Secret, corev1.Secret]("Secret"), pairOf[api.SecretList, corev1.SecretList]("SecretList"),
	pairOf[api.ServiceAccount, corev1.ServiceAccount]("ServiceAccount"), pairOf[api.ServiceAccountList, corev1.ServiceAccountList]("ServiceAccountList"),
	pairOf[api.ReplicationController, corev1.ReplicationController]("ReplicationController"), pairOf[api.ReplicationControllerList, corev1.ReplicationControllerList]("ReplicationControllerList"),
	pairOf[api.PersistentVolume, corev1.PersistentVolume]("PersistentVolume"), pairOf[api.PersistentVolumeList, corev1.PersistentVolumeList]("PersistentVolumeList"),
	pairOf[api.PersistentVolumeClaim, corev1.PersistentVolumeClaim]("PersistentVolumeClaim"), pairOf[api.PersistentVolumeClaimList, corev1.PersistentVolumeClaimList]("PersistentVolumeClaimList"),
	pairOf[api.PodTemplate, corev1.PodTemplate]("PodTemplate"), pairOf[api.PodTemplateList, corev1.PodTemplateList]("PodTemplateList"),
	pairOf[api.Binding, corev1.Binding]("Binding"),
	pairOf[apps.Deployment, appsv1.Deployment]("Deployment"), pairOf[apps.DeploymentList, appsv1.DeploymentList]("DeploymentList"),
	pairOf[apps.ReplicaSet, appsv1.ReplicaSet]("ReplicaSet"), pairOf[apps.ReplicaSetList, appsv1.ReplicaSetList]("ReplicaSetList"),
	pairOf[apps.StatefulSet, appsv1.StatefulSet]("StatefulSet"), pairOf[apps.StatefulSetList, appsv1.StatefulSetList]("StatefulSetList"),
	pairOf[apps.DaemonSet, appsv1.DaemonSet]("DaemonSet"), pairOf[apps.DaemonSetList, appsv1.DaemonSetList]("DaemonSetList"),
	pairOf[apps.ControllerRevision, appsv1.ControllerRevision]("ControllerRevision"), pairOf[apps.ControllerRevisionList, appsv1.ControllerRevisionList]("ControllerRevisionList"),
	pairOf[batch.Job, batchv1.Job]("Job"), pairOf[batch.JobList, batchv1.JobList]("JobList"),
	pairOf[batch.CronJob, batchv1.CronJob]("CronJob"), pairOf[batch.CronJobList, batchv1.CronJobList]("CronJobList"),
	pairOf[autoscaling.Scale, autoscalingv1.Scale]("Scale"),
	pairOf[discovery.EndpointSlice, discoveryv1.EndpointSlice]("EndpointSlice"), pairOf[discovery.EndpointSliceList, discoveryv1.EndpointSliceList]("EndpointSliceList"),
	pairOf[storage.StorageClass, storagev1.StorageClass]("StorageClass"), pairOf[storage.StorageClassList, storagev1.StorageClassList]("StorageClassList"),
	pairOf[scheduling.PriorityClass, schedulingv1.PriorityClass]("PriorityClass"), pairOf[scheduling.PriorityClassList, schedulingv1.PriorityClassList]("PriorityClassList"),
	pairOf[policy.PodDisruptionBudget, policyv1.PodDisruptionBudget]("PodDisruptionBudget"), pairOf[policy.PodDisruptionBudgetList, policyv1.PodDisruptionBudgetList]("PodDisruptionBudgetList"),
	pairOf[policy.Eviction, policyv1.Eviction]("Eviction"),
	pairOf[events.Event, eventsv1.Event]("events.Event"), pairOf[events.EventList, eventsv1.EventList]("events.EventList"),
	pairOf[certificates.CertificateSigningRequest, certificatesv1.CertificateSigningRequest]("CertificateSigningRequest"),
	pairOf[certificates.CertificateSigningRequestList, certificatesv1.CertificateSigningRequestList]("CertificateSigningRequestList"),
	pairOf[rbac.Role, rbacv1.Role]("Role"), pairOf[rbac.RoleList, rbacv1.RoleList]("RoleList"),
	pairOf[rbac.ClusterRole, rbacv1.ClusterRole]("ClusterRole"), pairOf[rbac.ClusterRoleList, rbacv1.ClusterRoleList]("ClusterRoleList"),
	pairOf[rbac.RoleBinding, rbacv1.RoleBinding]("RoleBinding"), pairOf[rbac.RoleBindingList, rbacv1.RoleBindingList]("RoleBindingList"),
	pairOf[rbac.ClusterRoleBinding, rbacv1.ClusterRoleBinding]("ClusterRoleBinding"), pairOf[rbac.ClusterRoleBindingList, rbacv1.ClusterRoleBindingList]("ClusterRoleBindingList"),
	{"Lease", func() protoObject { return new(leaseObject) }, func() protoObject { return new(coordinationv1.Lease) }}, pairOf[coordination.LeaseList, coordinationv1.LeaseList]("LeaseList"),
	pairOf[authentication.TokenRequest, authenticationv1.TokenRequest]("TokenRequest"),
	pairOf[authentication.TokenReview, authenticationv1.TokenReview]("TokenReview"),
	pairOf[authentication.SelfSubjectReview, authenticationv1.SelfSubjectReview]("SelfSubjectReview"),
	pairOf[authorization.SubjectAccessReview, authorizationv1.SubjectAccessReview]("SubjectAccessReview"),
	pairOf[authorization.SelfSubjectAccessReview, authorizationv1.SelfSubjectAccessReview]("SelfSubjectAccessReview"),
	pairOf[authorization.LocalSubjectAccessReview, authorizationv1.LocalSubjectAccessReview]("LocalSubjectAccessReview"),
	pairOf[authorization.SelfSubjectRulesReview, authorizationv1.SelfSubjectRulesReview]("SelfSubjectRulesReview"),
	pairOf[metrics.NodeMetrics, metricsv1beta1.NodeMetrics]("NodeMetrics"), pairOf[metrics.NodeMetricsList, metricsv1beta1.NodeMetricsList]("NodeMetricsList"),
	pairOf[metrics.PodMetrics, metricsv1beta1.PodMetrics]("PodMetrics"), pairOf[metrics.PodMetricsList, metricsv1beta1.PodMetricsList]("PodMetricsList"),
	pairOf[apidiscovery.APIGroupDiscovery, apidiscoveryv2.APIGroupDiscovery]("APIGroupDiscovery"),
	pairOf[apidiscovery.APIGroupDiscoveryList, apidiscoveryv2.APIGroupDiscoveryList]("APIGroupDiscoveryList"),
}

// leaseObject gives election.Lease (which the library leaves free of
// protobuf) protobuf methods through package coordination's codec.
type leaseObject struct{ election.Lease }

func (l *leaseObject) Marshal() ([]byte, error) { return coordination.MarshalLease(&l.Lease) }
func (l *leaseObject) Unmarshal(b []byte) error { return coordination.UnmarshalLease(b, &l.Lease) }

// quantityText is a random quantity in its canonical text, which both
// sides print back unchanged.
func quantityText(c randfill.Continue) string {
	suffixes := []string{"", "m", "k", "M", "Ki", "Mi", "Gi"}
	return fmt.Sprintf("%d%s", 1+c.Intn(999), suffixes[c.Intn(len(suffixes))])
}

func randTime(c randfill.Continue, micro bool) time.Time {
	t := time.Unix(1_600_000_000+c.Int63n(200_000_000), 0).UTC()
	if micro {
		t = t.Add(time.Duration(c.Intn(1_000_000)) * time.Microsecond)
	}
	return t
}

// oursFiller fills our types with values that both encodings can carry.
func oursFiller(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(1, 2).MaxDepth(24).Funcs(
		func(q *api.Quantity, c randfill.Continue) {
			*q = api.MustParse(quantityText(c))
		},
		func(v *api.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = api.FromString(c.String(8))
			} else {
				*v = api.FromInt(c.Int31())
			}
		},
		func(t *store.Time, c randfill.Continue) { t.Time = randTime(c, false) },
		func(t *store.MicroTime, c randfill.Continue) { t.Time = randTime(c, true) },
		func(d *api.Duration, c randfill.Continue) { d.Duration = time.Duration(c.Int63()) },
		func(r *api.RawExtension, c randfill.Continue) { r.Raw = []byte(fmt.Sprintf(`{"n":%d}`, c.Intn(100))) },
		func(f *store.FieldsV1, c randfill.Continue) { f.Raw = []byte(fmt.Sprintf(`{"f:n":{}}`)) },
		func(m *store.TypeMeta, c randfill.Continue) {},
		// Kubernetes sends a nil map value as no value and reads it back
		// as empty, so only non-nil values survive a round trip unchanged.
		func(m *map[string][]byte, c randfill.Continue) {
			*m = map[string][]byte{c.String(6): []byte(c.String(10)), c.String(6): {}}
		},
	)
}

// theirsFiller fills k8s.io/api types the same way.
func theirsFiller(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(1, 2).MaxDepth(24).Funcs(
		func(q *resource.Quantity, c randfill.Continue) { *q = resource.MustParse(quantityText(c)) },
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromString(c.String(8))
			} else {
				*v = intstr.FromInt32(c.Int31())
			}
		},
		func(t *metav1.Time, c randfill.Continue) { t.Time = randTime(c, false) },
		func(t *metav1.MicroTime, c randfill.Continue) { t.Time = randTime(c, true) },
		func(d *metav1.Duration, c randfill.Continue) { d.Duration = time.Duration(c.Int63()) },
		func(r *runtime.RawExtension, c randfill.Continue) {
			r.Raw = []byte(fmt.Sprintf(`{"n":%d}`, c.Intn(100)))
		},
		func(f *metav1.FieldsV1, c randfill.Continue) { f.Raw = []byte(`{"f:n":{}}`) },
		func(m *metav1.TypeMeta, c randfill.Continue) {},
		// Kubernetes sends a nil map value as no value and reads it back
		// as empty, so only non-nil values survive a round trip unchanged.
		func(m *map[string][]byte, c randfill.Continue) {
			*m = map[string][]byte{c.String(6): []byte(c.String(10)), c.String(6): {}}
		},
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			c.FillNoCustom(m)
			m.SelfLink = "" // setpoint drops the deprecated selfLink
		},
	)
}

var oursCmp = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b api.Quantity) bool { return a.Cmp(b) == 0 && a.String() == b.String() }),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
}

// roundTripOurs checks one object of ours against k8s.io/api.
func roundTripOurs(t *testing.T, k kindPair, ours protoObject) {
	t.Helper()
	// protobuf: ours -> theirs -> ours, and the same bytes both ways
	ob, err := ours.Marshal()
	if err != nil {
		t.Fatalf("our Marshal: %v", err)
	}
	viaProto := k.theirs()
	if err := viaProto.Unmarshal(ob); err != nil {
		t.Fatalf("k8s.io/api cannot decode our protobuf: %v", err)
	}
	tb, err := viaProto.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ob, tb) {
		t.Errorf("protobuf bytes differ: ours %d bytes, k8s.io/api re-encoded %d bytes", len(ob), len(tb))
	}
	back := k.ours()
	if err := back.Unmarshal(tb); err != nil {
		t.Fatalf("our Unmarshal of k8s.io/api's protobuf: %v", err)
	}
	want := reflect.ValueOf(ours).Elem().Interface()
	stripTypeMeta(ours)
	if d := cmp.Diff(reflect.ValueOf(ours).Elem().Interface(), reflect.ValueOf(back).Elem().Interface(), oursCmp...); d != "" {
		t.Errorf("protobuf round trip through k8s.io/api changed the object (-want +got):\n%s", d)
	}
	// JSON: ours -> theirs -> ours; and theirs (from JSON) equals theirs (from protobuf)
	restore(ours, want)
	oj, err := json.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}
	viaJSON := k.theirs()
	if err := json.Unmarshal(oj, viaJSON); err != nil {
		t.Fatalf("k8s.io/api cannot decode our JSON: %v", err)
	}
	stripTypeMeta(viaJSON)
	if !equality.Semantic.DeepEqual(viaJSON, viaProto) {
		t.Errorf("k8s.io/api decodes our JSON and our protobuf differently:\n%s", cmp.Diff(viaJSON, viaProto, cmpopts.EquateEmpty()))
	}
	restore(ours, want)
	tj, err := json.Marshal(viaProto)
	if err != nil {
		t.Fatal(err)
	}
	backJSON := k.ours()
	if err := json.Unmarshal(tj, backJSON); err != nil {
		t.Fatalf("our JSON decode of k8s.io/api's JSON: %v", err)
	}
	stripTypeMeta(ours)
	if d := cmp.Diff(reflect.ValueOf(ours).Elem().Interface(), reflect.ValueOf(backJSON).Elem().Interface(), oursCmp...); d != "" {
		t.Errorf("JSON round trip through k8s.io/api changed the object (-want +got):\n%s", d)
	}
}

// roundTripTheirs checks one k8s.io/api object against ours.
func roundTripTheirs(t *testing.T, k kindPair, theirs protoObject) {
	t.Helper()
	tb, err := theirs.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ours := k.ours()
	if err := ours.Unmarshal(tb); err != nil {
		t.Fatalf("our Unmarshal of k8s.io/api's protobuf: %v", err)
	}
	ob, err := ours.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ob, tb) {
		t.Errorf("protobuf bytes differ: k8s.io/api %d bytes, ours re-encoded %d bytes", len(tb), len(ob))
	}
	back := k.theirs()
	if err := back.Unmarshal(ob); err != nil {
		t.Fatalf("k8s.io/api cannot decode our protobuf: %v", err)
	}
	if !equality.Semantic.DeepEqual(theirs, back) {
		t.Errorf("protobuf round trip through ours changed the object:\n%s", cmp.Diff(theirs, back, cmpopts.EquateEmpty()))
	}
	tj, err := json.Marshal(theirs)
	if err != nil {
		t.Fatal(err)
	}
	oursJSON := k.ours()
	if err := json.Unmarshal(tj, oursJSON); err != nil {
		t.Fatalf("our JSON decode of k8s.io/api's JSON: %v", err)
	}
	if d := cmp.Diff(reflect.ValueOf(ours).Elem().Interface(), reflect.ValueOf(oursJSON).Elem().Interface(), oursCmp...); d != "" {
		t.Errorf("ours decodes k8s.io/api's JSON and protobuf differently (-proto +json):\n%s", d)
	}
	oj, err := json.Marshal(oursJSON)
	if err != nil {
		t.Fatal(err)
	}
	backJSON := k.theirs()
	if err := json.Unmarshal(oj, backJSON); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(theirs, backJSON) {
		t.Errorf("JSON round trip through ours changed the object:\n%s", cmp.Diff(theirs, backJSON, cmpopts.EquateEmpty()))
	}
}

// stripTypeMeta clears apiVersion and kind, which protobuf does not carry
// inside the object (the envelope does).
func stripTypeMeta(o any) {
	v := reflect.ValueOf(o).Elem()
	if f := v.FieldByName("TypeMeta"); f.IsValid() {
		f.Set(reflect.Zero(f.Type()))
	}
}

func restore(o any, v any) { reflect.ValueOf(o).Elem().Set(reflect.ValueOf(v)) }

const diffRounds = 20

func TestAPITypesDifferentialOursToKubernetes(t *testing.T) {
	for _, k := range diffKinds {
		t.Run(k.name, func(t *testing.T) {
			for i := 0; i < diffRounds; i++ {
				o := k.ours()
				oursFiller(int64(i)*7919 + int64(len(k.name))).Fill(o)
				roundTripOurs(t, k, o)
				if t.Failed() {
					return
				}
			}
		})
	}
}

func TestAPITypesDifferentialKubernetesToOurs(t *testing.T) {
	for _, k := range diffKinds {
		t.Run(k.name, func(t *testing.T) {
			for i := 0; i < diffRounds; i++ {
				o := k.theirs()
				theirsFiller(int64(i)*104729 + int64(len(k.name))).Fill(o)
				stripTypeMeta(o)
				roundTripTheirs(t, k, o)
				if t.Failed() {
					return
				}
			}
		})
	}
}
