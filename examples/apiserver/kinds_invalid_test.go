package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/watch"
)

// TestInvalidEveryKind: bad input of each kind the registry added is 422
// Invalid, worded as Kubernetes words it (`<Kind>[.group] "<name>" is
// invalid: <field>: ...`, also when only generateName was given), with
// the kind, group, name and a cause per field in the details, and nothing
// is written.
func TestInvalidEveryKind(t *testing.T) {
	s := startServer(t)
	admin := s.httpClient(t, true)
	const core, ns = "/api/v1", "/namespaces/default/"
	cases := []struct {
		path, body  string
		kind, group string
		field       string
	}{
		{core + ns + "configmaps", `{"metadata":{"name":"c"},"data":{"a b":"x"}}`, "ConfigMap", "", "data[a b]"},
		{core + ns + "configmaps", `{"metadata":{"generateName":"c-"},"data":{"a":"x"},"binaryData":{"a":"eA=="}}`, "ConfigMap", "", "data[a]"},
		{core + ns + "secrets", `{"metadata":{"name":"s"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}}`, "Secret", "", "data[tls.key]"},
		{core + ns + "secrets", `{"metadata":{"name":"s"},"type":"kubernetes.io/dockerconfigjson","data":{}}`, "Secret", "", "data[.dockerconfigjson]"},
		{core + ns + "secrets", `{"metadata":{"name":"s"},"type":"kubernetes.io/service-account-token"}`, "Secret", "", "metadata.annotations[kubernetes.io/service-account.name]"},
		{core + ns + "secrets", `{"metadata":{"name":"s","namespace":"default"},"type":"bootstrap.kubernetes.io/token","data":{"token-id":"YWJjZGVm"}}`, "Secret", "", "data[token-secret]"},
		{core + ns + "serviceaccounts", `{"metadata":{"name":"Robot"}}`, "ServiceAccount", "", "metadata.name"},
		{core + ns + "replicationcontrollers", `{"metadata":{"name":"rc"},"spec":{"replicas":1,"selector":{"app":"a"},"template":{"metadata":{"labels":{"app":"b"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`, "ReplicationController", "", "spec.template.metadata.labels"},
		{core + ns + "limitranges", `{"metadata":{"name":"l"},"spec":{"limits":[{"type":"Container","max":{"cpu":"100m"},"min":{"cpu":"200m"}}]}}`, "LimitRange", "", "spec.limits[0].min[cpu]"},
		{core + ns + "podtemplates", `{"metadata":{"name":"t"},"template":{"spec":{"containers":[{"name":"c"}]}}}`, "PodTemplate", "", "template.spec.containers[0].image"},
		{core + "/persistentvolumes", `{"metadata":{"name":"pv"},"spec":{"accessModes":["ReadWriteOnce"],"hostPath":{"path":"/d"}}}`, "PersistentVolume", "", "spec.capacity"},
		{core + ns + "persistentvolumeclaims", `{"metadata":{"name":"pvc"},"spec":{"resources":{"requests":{"storage":"1Gi"}}}}`, "PersistentVolumeClaim", "", "spec.accessModes"},
		{"/apis/batch/v1" + ns + "jobs", `{"metadata":{"name":"j"},"spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"c","image":"busybox"}]}}}}`, "Job", "batch", "spec.template.spec.restartPolicy"},
		{"/apis/batch/v1" + ns + "cronjobs", `{"metadata":{"name":"cj"},"spec":{"schedule":"every day","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}}`, "CronJob", "batch", "spec.schedule"},
		{"/apis/discovery.k8s.io/v1" + ns + "endpointslices", `{"metadata":{"name":"e"},"addressType":"IPv5","endpoints":[]}`, "EndpointSlice", "discovery.k8s.io", "addressType"},
		{"/apis/storage.k8s.io/v1/storageclasses", `{"metadata":{"name":"fast"}}`, "StorageClass", "storage.k8s.io", "provisioner"},
		{"/apis/apps/v1" + ns + "controllerrevisions", `{"metadata":{"name":"r"},"revision":-1,"data":{}}`, "ControllerRevision", "apps", "revision"},
		{"/apis/scheduling.k8s.io/v1/priorityclasses", `{"metadata":{"name":"huge"},"value":2000000000}`, "PriorityClass", "scheduling.k8s.io", "value"},
		{"/apis/policy/v1" + ns + "poddisruptionbudgets", `{"metadata":{"name":"p"},"spec":{"minAvailable":1,"maxUnavailable":1,"selector":{"matchLabels":{"a":"b"}}}}`, "PodDisruptionBudget", "policy", "spec"},
		{"/apis/events.k8s.io/v1" + ns + "events", `{"metadata":{"name":"ev"},"eventTime":"2026-01-02T03:04:05.000000Z","action":"A","reason":"R","type":"Normal","regarding":{"kind":"Pod","name":"p"}}`, "Event", "events.k8s.io", "reportingController"},
		{"/apis/certificates.k8s.io/v1/certificatesigningrequests", `{"metadata":{"name":"csr"},"spec":{"signerName":"example.com/s","request":"bm90IGEgcmVxdWVzdA=="}}`, "CertificateSigningRequest", "certificates.k8s.io", "spec.request"},
		{"/apis/rbac.authorization.k8s.io/v1" + ns + "roles", `{"metadata":{"name":"r"},"rules":[{"resources":["pods"],"apiGroups":[""]}]}`, "Role", "rbac.authorization.k8s.io", "rules[0].verbs"},
		{"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", `{"metadata":{"name":"b"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Thing","name":"x"}}`, "ClusterRoleBinding", "rbac.authorization.k8s.io", "roleRef.kind"},
	}
	rev := s.revision(t)
	for _, c := range cases {
		code, resp := s.rawType(t, admin, "POST", c.path, "application/json", c.body)
		var st watch.Status
		if err := json.Unmarshal([]byte(resp), &st); err != nil {
			t.Errorf("POST %s: %d %q: %v", c.path, code, resp, err)
			continue
		}
		qualified := c.kind
		if c.group != "" {
			qualified += "." + c.group
		}
		if code != 422 || st.Reason != watch.StatusReasonInvalid || !strings.HasPrefix(st.Message, qualified+` "`) ||
			!strings.Contains(st.Message, `is invalid: `) || !strings.Contains(st.Message, c.field+": ") {
			t.Errorf("POST %s %s: %d %s, want 422 naming %s", c.path, c.body, code, resp, c.field)
			continue
		}
		if st.Details == nil || st.Details.Kind != c.kind || st.Details.Group != c.group || st.Details.Name == "" {
			t.Errorf("POST %s: details %+v", c.path, st.Details)
			continue
		}
		found := false
		for _, cause := range st.Details.Causes {
			found = found || cause.Field == c.field
		}
		if !found {
			t.Errorf("POST %s: no cause for %s: %+v", c.path, c.field, st.Details.Causes)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("invalid objects were written: revision %d -> %d", rev, got)
	}
}
