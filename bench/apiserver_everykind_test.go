package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// TestClientGoEveryServedKind: client-go with its default configuration
// (protobuf) does typed create, get, list, update, a stale update (409)
// and a delete with a UID precondition for EVERY resource the apiserver's
// discovery lists with the create verb, and a list-watch informer from
// client-go's own factory syncs for every resource it lists with list and
// watch. A resource served but missing from the table below fails the
// test, so a kind added to the apiserver is covered here or noticed.
func TestClientGoEveryServedKind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cfg, ml := defaultClientConfig(t, ctx)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := everyKindCases(t, cs)

	_, lists, err := cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	var creatable []string
	var watchable []schema.GroupVersionResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			verbs := map[string]bool{}
			for _, v := range r.Verbs {
				verbs[v] = true
			}
			if verbs["create"] {
				creatable = append(creatable, gv.Group+"/"+r.Name)
			}
			if verbs["list"] && verbs["watch"] {
				watchable = append(watchable, gv.WithResource(r.Name))
			}
		}
	}
	sort.Strings(creatable)
	if len(creatable) < 30 {
		t.Fatalf("discovery lists only %d creatable resources: %v", len(creatable), creatable)
	}
	for _, key := range creatable {
		run, ok := cases[key]
		if !ok {
			t.Errorf("served resource %s has no case in this test", key)
			continue
		}
		run(ctx)
	}

	f := informers.NewSharedInformerFactory(cs, 0)
	var infs []cache.SharedIndexInformer
	for _, gvr := range watchable {
		gi, err := f.ForResource(gvr)
		if err != nil {
			t.Fatalf("client-go has no informer for served resource %s: %v", gvr, err)
		}
		infs = append(infs, gi.Informer())
	}
	ictx, icancel := context.WithCancel(ctx)
	f.Start(ictx.Done())
	defer f.Shutdown()
	defer icancel()
	for i, inf := range infs {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			t.Fatalf("the informer of %s did not sync", watchable[i])
		}
	}
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if ml.requests["application/json"] != 0 || ml.requests[protobufType] == 0 {
		t.Errorf("request bodies by media type %v: want protobuf only", ml.requests)
	}
}

// everyKindCases returns, by "group/resource", a typed round trip of a
// valid object of each kind.
func everyKindCases(t *testing.T, cs *kubernetes.Clientset) map[string]func(context.Context) {
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }
	labels := map[string]string{"app": "every"}
	sel := &metav1.LabelSelector{MatchLabels: labels}
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}
	jobTmpl := *tmpl.DeepCopy()
	jobTmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	one := int32(1)
	gi := resource.MustParse("1Gi")
	holder := "someone"
	ref := corev1.ObjectReference{Kind: "Pod", Name: "p", Namespace: "default"}
	minAvail := intstr.FromInt32(1)
	rule := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}
	subjects := []rbacv1.Subject{{Kind: "User", Name: "someone", APIGroup: rbacv1.GroupName}}
	ns := "default"
	c1, a1, ap1, b1, r1 := cs.CoreV1(), cs.AppsV1(), cs.BatchV1(), cs.RbacV1(), cs.StorageV1()
	return map[string]func(context.Context){
		"/configmaps": func(ctx context.Context) {
			crud(t, ctx, "configmap", &corev1.ConfigMap{ObjectMeta: om("ek"), Data: map[string]string{"a": "b"}}, c1.ConfigMaps(ns), func(l *corev1.ConfigMapList) int { return len(l.Items) })
		},
		"/endpoints": func(ctx context.Context) {
			crud(t, ctx, "endpoints", &corev1.Endpoints{ObjectMeta: om("ek")}, c1.Endpoints(ns), func(l *corev1.EndpointsList) int { return len(l.Items) })
		},
		"/events": func(ctx context.Context) {
			crud(t, ctx, "event", &corev1.Event{ObjectMeta: om("ek"), InvolvedObject: ref, Reason: "Test", Message: "m", Type: corev1.EventTypeNormal},
				c1.Events(ns), func(l *corev1.EventList) int { return len(l.Items) })
		},
		"/limitranges": func(ctx context.Context) {
			crud(t, ctx, "limitrange", &corev1.LimitRange{ObjectMeta: om("ek"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}},
				c1.LimitRanges(ns), func(l *corev1.LimitRangeList) int { return len(l.Items) })
		},
		"/namespaces": func(ctx context.Context) {
			crud(t, ctx, "namespace", &corev1.Namespace{ObjectMeta: om("ek")}, c1.Namespaces(), func(l *corev1.NamespaceList) int { return len(l.Items) })
		},
		"/nodes": func(ctx context.Context) {
			crud(t, ctx, "node", &corev1.Node{ObjectMeta: om("ek")}, c1.Nodes(), func(l *corev1.NodeList) int { return len(l.Items) })
		},
		"/persistentvolumeclaims": func(ctx context.Context) {
			crud(t, ctx, "pvc", &corev1.PersistentVolumeClaim{ObjectMeta: om("ek"), Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: gi}}}},
				c1.PersistentVolumeClaims(ns), func(l *corev1.PersistentVolumeClaimList) int { return len(l.Items) })
		},
		"/persistentvolumes": func(ctx context.Context) {
			crud(t, ctx, "pv", &corev1.PersistentVolume{ObjectMeta: om("ek"), Spec: corev1.PersistentVolumeSpec{
				Capacity: corev1.ResourceList{corev1.ResourceStorage: gi}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/ek"}}}},
				c1.PersistentVolumes(), func(l *corev1.PersistentVolumeList) int { return len(l.Items) })
		},
		"/pods": func(ctx context.Context) {
			crud(t, ctx, "pod", &corev1.Pod{ObjectMeta: om("ek"), Spec: podSpec}, c1.Pods(ns), func(l *corev1.PodList) int { return len(l.Items) })
		},
		"/podtemplates": func(ctx context.Context) {
			crud(t, ctx, "podtemplate", &corev1.PodTemplate{ObjectMeta: om("ek"), Template: tmpl}, c1.PodTemplates(ns), func(l *corev1.PodTemplateList) int { return len(l.Items) })
		},
		"/replicationcontrollers": func(ctx context.Context) {
			crud(t, ctx, "replicationcontroller", &corev1.ReplicationController{ObjectMeta: om("ek"), Spec: corev1.ReplicationControllerSpec{
				Replicas: &one, Selector: labels, Template: &tmpl}}, c1.ReplicationControllers(ns), func(l *corev1.ReplicationControllerList) int { return len(l.Items) })
		},
		"/resourcequotas": func(ctx context.Context) {
			crud(t, ctx, "resourcequota", &corev1.ResourceQuota{ObjectMeta: om("ek"), Spec: corev1.ResourceQuotaSpec{
				Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("100")}}}, c1.ResourceQuotas(ns), func(l *corev1.ResourceQuotaList) int { return len(l.Items) })
		},
		"/secrets": func(ctx context.Context) {
			crud(t, ctx, "secret", &corev1.Secret{ObjectMeta: om("ek"), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}},
				c1.Secrets(ns), func(l *corev1.SecretList) int { return len(l.Items) })
		},
		"/serviceaccounts": func(ctx context.Context) {
			crud(t, ctx, "serviceaccount", &corev1.ServiceAccount{ObjectMeta: om("ek")}, c1.ServiceAccounts(ns), func(l *corev1.ServiceAccountList) int { return len(l.Items) })
		},
		"/services": func(ctx context.Context) {
			crud(t, ctx, "service", &corev1.Service{ObjectMeta: om("ek"), Spec: corev1.ServiceSpec{Selector: labels,
				Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}, c1.Services(ns), func(l *corev1.ServiceList) int { return len(l.Items) })
		},
		"apps/controllerrevisions": func(ctx context.Context) {
			crud(t, ctx, "controllerrevision", &appsv1.ControllerRevision{ObjectMeta: om("ek"), Revision: 1, Data: runtime.RawExtension{Raw: []byte(`{"a":1}`)}},
				a1.ControllerRevisions(ns), func(l *appsv1.ControllerRevisionList) int { return len(l.Items) })
		},
		"apps/daemonsets": func(ctx context.Context) {
			crud(t, ctx, "daemonset", &appsv1.DaemonSet{ObjectMeta: om("ek"), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl}},
				a1.DaemonSets(ns), func(l *appsv1.DaemonSetList) int { return len(l.Items) })
		},
		"apps/deployments": func(ctx context.Context) {
			crud(t, ctx, "deployment", &appsv1.Deployment{ObjectMeta: om("ek"), Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: sel, Template: tmpl}},
				a1.Deployments(ns), func(l *appsv1.DeploymentList) int { return len(l.Items) })
		},
		"apps/replicasets": func(ctx context.Context) {
			crud(t, ctx, "replicaset", &appsv1.ReplicaSet{ObjectMeta: om("ek"), Spec: appsv1.ReplicaSetSpec{Replicas: &one, Selector: sel, Template: tmpl}},
				a1.ReplicaSets(ns), func(l *appsv1.ReplicaSetList) int { return len(l.Items) })
		},
		"apps/statefulsets": func(ctx context.Context) {
			crud(t, ctx, "statefulset", &appsv1.StatefulSet{ObjectMeta: om("ek"), Spec: appsv1.StatefulSetSpec{Replicas: &one, Selector: sel, Template: tmpl, ServiceName: "ek"}},
				a1.StatefulSets(ns), func(l *appsv1.StatefulSetList) int { return len(l.Items) })
		},
		"batch/cronjobs": func(ctx context.Context) {
			crud(t, ctx, "cronjob", &batchv1.CronJob{ObjectMeta: om("ek"), Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *",
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: jobTmpl}}}}, ap1.CronJobs(ns), func(l *batchv1.CronJobList) int { return len(l.Items) })
		},
		"batch/jobs": func(ctx context.Context) {
			crud(t, ctx, "job", &batchv1.Job{ObjectMeta: om("ek"), Spec: batchv1.JobSpec{Template: jobTmpl}}, ap1.Jobs(ns), func(l *batchv1.JobList) int { return len(l.Items) })
		},
		"certificates.k8s.io/certificatesigningrequests": func(ctx context.Context) {
			crud(t, ctx, "csr", &certificatesv1.CertificateSigningRequest{ObjectMeta: om("ek"), Spec: certificatesv1.CertificateSigningRequestSpec{
				Request: csrPEM(t), SignerName: certificatesv1.KubeAPIServerClientSignerName, Usages: []certificatesv1.KeyUsage{certificatesv1.UsageClientAuth}}},
				cs.CertificatesV1().CertificateSigningRequests(), func(l *certificatesv1.CertificateSigningRequestList) int { return len(l.Items) })
		},
		"coordination.k8s.io/leases": func(ctx context.Context) {
			crud(t, ctx, "lease", &coordinationv1.Lease{ObjectMeta: om("ek"), Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}},
				cs.CoordinationV1().Leases(ns), func(l *coordinationv1.LeaseList) int { return len(l.Items) })
		},
		"discovery.k8s.io/endpointslices": func(ctx context.Context) {
			crud(t, ctx, "endpointslice", &discoveryv1.EndpointSlice{ObjectMeta: om("ek"), AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}}}, cs.DiscoveryV1().EndpointSlices(ns), func(l *discoveryv1.EndpointSliceList) int { return len(l.Items) })
		},
		"events.k8s.io/events": func(ctx context.Context) {
			crud(t, ctx, "events.k8s.io event", &eventsv1.Event{ObjectMeta: om("ek2"), EventTime: metav1.NowMicro(), ReportingController: "example.com/test",
				ReportingInstance: "test-1", Action: "Testing", Reason: "Test", Regarding: ref, Type: corev1.EventTypeNormal, Note: "n"},
				cs.EventsV1().Events(ns), func(l *eventsv1.EventList) int { return len(l.Items) })
		},
		"policy/poddisruptionbudgets": func(ctx context.Context) {
			crud(t, ctx, "pdb", &policyv1.PodDisruptionBudget{ObjectMeta: om("ek"), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvail, Selector: sel}},
				cs.PolicyV1().PodDisruptionBudgets(ns), func(l *policyv1.PodDisruptionBudgetList) int { return len(l.Items) })
		},
		"rbac.authorization.k8s.io/clusterrolebindings": func(ctx context.Context) {
			crud(t, ctx, "clusterrolebinding", &rbacv1.ClusterRoleBinding{ObjectMeta: om("ek"), Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}},
				b1.ClusterRoleBindings(), func(l *rbacv1.ClusterRoleBindingList) int { return len(l.Items) })
		},
		"rbac.authorization.k8s.io/clusterroles": func(ctx context.Context) {
			crud(t, ctx, "clusterrole", &rbacv1.ClusterRole{ObjectMeta: om("ek"), Rules: rule}, b1.ClusterRoles(), func(l *rbacv1.ClusterRoleList) int { return len(l.Items) })
		},
		"rbac.authorization.k8s.io/rolebindings": func(ctx context.Context) {
			crud(t, ctx, "rolebinding", &rbacv1.RoleBinding{ObjectMeta: om("ek"), Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "ek"}},
				b1.RoleBindings(ns), func(l *rbacv1.RoleBindingList) int { return len(l.Items) })
		},
		"rbac.authorization.k8s.io/roles": func(ctx context.Context) {
			crud(t, ctx, "role", &rbacv1.Role{ObjectMeta: om("ek"), Rules: rule}, b1.Roles(ns), func(l *rbacv1.RoleList) int { return len(l.Items) })
		},
		"scheduling.k8s.io/priorityclasses": func(ctx context.Context) {
			crud(t, ctx, "priorityclass", &schedulingv1.PriorityClass{ObjectMeta: om("ek"), Value: 1000}, cs.SchedulingV1().PriorityClasses(),
				func(l *schedulingv1.PriorityClassList) int { return len(l.Items) })
		},
		"storage.k8s.io/storageclasses": func(ctx context.Context) {
			crud(t, ctx, "storageclass", &storagev1.StorageClass{ObjectMeta: om("ek"), Provisioner: "example.com/local"}, r1.StorageClasses(),
				func(l *storagev1.StorageClassList) int { return len(l.Items) })
		},
	}
}

// csrPEM returns a PEM certificate request for a client certificate.
func csrPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "someone"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}
