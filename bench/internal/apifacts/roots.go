package apifacts

import (
	"reflect"

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
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// roots are the kinds the example cluster serves and their lists. (The
// meta/v1 Status the apiserver sends is the library's one type, not
// generated here.)
var roots = []reflect.Type{
	reflect.TypeFor[corev1.Pod](), reflect.TypeFor[corev1.PodList](),
	reflect.TypeFor[corev1.Node](), reflect.TypeFor[corev1.NodeList](),
	reflect.TypeFor[corev1.Namespace](), reflect.TypeFor[corev1.NamespaceList](),
	reflect.TypeFor[corev1.Service](), reflect.TypeFor[corev1.ServiceList](),
	reflect.TypeFor[corev1.Endpoints](), reflect.TypeFor[corev1.EndpointsList](),
	reflect.TypeFor[corev1.Event](), reflect.TypeFor[corev1.EventList](),
	reflect.TypeFor[corev1.ResourceQuota](), reflect.TypeFor[corev1.ResourceQuotaList](),
	reflect.TypeFor[corev1.LimitRange](), reflect.TypeFor[corev1.LimitRangeList](),
	reflect.TypeFor[corev1.ConfigMap](), reflect.TypeFor[corev1.ConfigMapList](),
	reflect.TypeFor[corev1.Secret](), reflect.TypeFor[corev1.SecretList](),
	reflect.TypeFor[corev1.ServiceAccount](), reflect.TypeFor[corev1.ServiceAccountList](),
	reflect.TypeFor[corev1.ReplicationController](), reflect.TypeFor[corev1.ReplicationControllerList](),
	reflect.TypeFor[corev1.PersistentVolume](), reflect.TypeFor[corev1.PersistentVolumeList](),
	reflect.TypeFor[corev1.PersistentVolumeClaim](), reflect.TypeFor[corev1.PersistentVolumeClaimList](),
	reflect.TypeFor[corev1.PodTemplate](), reflect.TypeFor[corev1.PodTemplateList](),
	reflect.TypeFor[corev1.Binding](),
	reflect.TypeFor[appsv1.Deployment](), reflect.TypeFor[appsv1.DeploymentList](),
	reflect.TypeFor[appsv1.ReplicaSet](), reflect.TypeFor[appsv1.ReplicaSetList](),
	reflect.TypeFor[appsv1.StatefulSet](), reflect.TypeFor[appsv1.StatefulSetList](),
	reflect.TypeFor[appsv1.DaemonSet](), reflect.TypeFor[appsv1.DaemonSetList](),
	reflect.TypeFor[appsv1.ControllerRevision](), reflect.TypeFor[appsv1.ControllerRevisionList](),
	reflect.TypeFor[batchv1.Job](), reflect.TypeFor[batchv1.JobList](),
	reflect.TypeFor[batchv1.CronJob](), reflect.TypeFor[batchv1.CronJobList](),
	reflect.TypeFor[autoscalingv1.Scale](),
	reflect.TypeFor[discoveryv1.EndpointSlice](), reflect.TypeFor[discoveryv1.EndpointSliceList](),
	reflect.TypeFor[storagev1.StorageClass](), reflect.TypeFor[storagev1.StorageClassList](),
	reflect.TypeFor[schedulingv1.PriorityClass](), reflect.TypeFor[schedulingv1.PriorityClassList](),
	reflect.TypeFor[policyv1.PodDisruptionBudget](), reflect.TypeFor[policyv1.PodDisruptionBudgetList](),
	reflect.TypeFor[policyv1.Eviction](),
	reflect.TypeFor[eventsv1.Event](), reflect.TypeFor[eventsv1.EventList](),
	reflect.TypeFor[certificatesv1.CertificateSigningRequest](), reflect.TypeFor[certificatesv1.CertificateSigningRequestList](),
	reflect.TypeFor[rbacv1.Role](), reflect.TypeFor[rbacv1.RoleList](),
	reflect.TypeFor[rbacv1.ClusterRole](), reflect.TypeFor[rbacv1.ClusterRoleList](),
	reflect.TypeFor[rbacv1.RoleBinding](), reflect.TypeFor[rbacv1.RoleBindingList](),
	reflect.TypeFor[rbacv1.ClusterRoleBinding](), reflect.TypeFor[rbacv1.ClusterRoleBindingList](),
	reflect.TypeFor[coordinationv1.Lease](), reflect.TypeFor[coordinationv1.LeaseList](),
	reflect.TypeFor[authenticationv1.TokenRequest](), reflect.TypeFor[authenticationv1.TokenReview](),
	reflect.TypeFor[authenticationv1.SelfSubjectReview](),
	reflect.TypeFor[authorizationv1.SubjectAccessReview](), reflect.TypeFor[authorizationv1.SelfSubjectAccessReview](),
	reflect.TypeFor[authorizationv1.LocalSubjectAccessReview](), reflect.TypeFor[authorizationv1.SelfSubjectRulesReview](),
	reflect.TypeFor[metricsv1beta1.NodeMetrics](), reflect.TypeFor[metricsv1beta1.NodeMetricsList](),
	reflect.TypeFor[metricsv1beta1.PodMetrics](), reflect.TypeFor[metricsv1beta1.PodMetricsList](),
	reflect.TypeFor[apidiscoveryv2.APIGroupDiscovery](), reflect.TypeFor[apidiscoveryv2.APIGroupDiscoveryList](),
}
