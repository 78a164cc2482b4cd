package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
)

// csrPEM returns a PEM certificate request for CN=name, base64-encoded
// as a CertificateSigningRequest's spec.request is in JSON and YAML.
func csrPEM(t *testing.T, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// TestKubectlEveryKind drives the served kinds the way users do: kubectl's
// discovery, explain, the create subcommands, and a manifest of every kind
// the registry added applied, listed and deleted.
func TestKubectlEveryKind(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)

	// every group lists resources; kubectl api-resources exits 0
	out := s.kubectl(t, false, "api-resources")
	for _, want := range []string{"configmaps", "secrets", "serviceaccounts", "replicationcontrollers", "limitranges",
		"podtemplates", "persistentvolumes", "persistentvolumeclaims", "jobs", "cronjobs", "endpointslices",
		"storageclasses", "controllerrevisions", "priorityclasses", "poddisruptionbudgets", "certificatesigningrequests",
		"roles", "clusterroles", "rolebindings", "clusterrolebindings", "events.k8s.io"} {
		if !strings.Contains(out, want) {
			t.Errorf("api-resources lists no %s:\n%s", want, out)
		}
	}

	// explain reads the generated descriptions from the OpenAPI document
	out = s.kubectl(t, false, "explain", "pod.spec.containers")
	if !strings.Contains(out, "DESCRIPTION") || !strings.Contains(out, "FIELDS") || !strings.Contains(out, "image\t<string>") {
		t.Errorf("explain pod.spec.containers:\n%s", out)
	}
	out = s.kubectl(t, false, "explain", "pod.spec.containers.securityContext.runAsUser")
	if !strings.Contains(out, "<integer>") {
		t.Errorf("explain pod.spec.containers.securityContext.runAsUser:\n%s", out)
	}

	// the create subcommands build the objects; kubectl sends what they
	// build as protobuf, which the server does not read yet (the protobuf
	// task), so they print it (--dry-run=client) and create -f sends it as
	// JSON, unchanged
	for i, c := range [][]string{
		{"create", "namespace", "team"},
		{"create", "deployment", "web", "--image=nginx", "-n", "team"},
		{"create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "team"},
		{"create", "configmap", "conf", "--from-literal=a=1", "-n", "team"},
		{"create", "secret", "generic", "creds", "--from-literal=password=x", "-n", "team"},
		{"create", "secret", "docker-registry", "pull", "--docker-server=r.example", "--docker-username=u", "--docker-password=p", "-n", "team"},
		{"create", "job", "once", "--image=busybox", "-n", "team"},
		{"create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "-n", "team"},
		{"create", "serviceaccount", "robot", "-n", "team"},
		{"create", "role", "reader", "--verb=get", "--resource=pods", "-n", "team"},
		{"create", "rolebinding", "reader", "--role=reader", "--serviceaccount=team:robot", "-n", "team"},
		{"create", "clusterrole", "viewer", "--verb=list", "--resource=nodes"},
		{"create", "clusterrolebinding", "viewer", "--clusterrole=viewer", "--user=ann"},
		{"create", "priorityclass", "high", "--value=1000"},
		{"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1", "-n", "team"},
	} {
		obj := s.kubectl(t, false, append(c, "--dry-run=client", "-o", "json")...)
		out := s.kubectl(t, false, "create", "-f", s.writeFile(t, fmt.Sprintf("create-%d.json", i), obj))
		if !strings.Contains(out, "created") {
			t.Errorf("kubectl %s: %s", strings.Join(c, " "), out)
		}
	}
	// what kubectl created reads back with the defaults Kubernetes adds
	var job struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			BackoffLimit   *int32 `json:"backoffLimit"`
			CompletionMode string `json:"completionMode"`
			Template       struct {
				Metadata struct {
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(s.kubectl(t, false, "get", "job", "once", "-n", "team", "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	if uid := job.Spec.Selector.MatchLabels["batch.kubernetes.io/controller-uid"]; uid == "" || uid != job.Metadata.UID ||
		job.Spec.Template.Metadata.Labels["batch.kubernetes.io/job-name"] != "once" {
		t.Errorf("job selector and labels not generated from its UID: %+v", job)
	}
	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 6 || job.Spec.CompletionMode != "NonIndexed" {
		t.Errorf("job defaults: %+v", job.Spec)
	}
	out = s.kubectl(t, false, "get", "secret", "pull", "-n", "team", "-o", "jsonpath={.type}")
	if out != "kubernetes.io/dockerconfigjson" {
		t.Errorf("secret type %q", out)
	}
	// kubectl get prints each kind's own columns
	for kind, cols := range map[string]string{
		"cronjobs":             "SCHEDULE",
		"jobs":                 "COMPLETIONS",
		"secrets":              "TYPE",
		"poddisruptionbudgets": "ALLOWED DISRUPTIONS",
		"rolebindings":         "ROLE",
	} {
		if out := s.kubectl(t, false, "get", kind, "-n", "team"); !strings.Contains(out, cols) {
			t.Errorf("kubectl get %s has no %s column:\n%s", kind, cols, out)
		}
	}
	if out := s.kubectl(t, false, "get", "priorityclasses"); !strings.Contains(out, "system-node-critical") || !strings.Contains(out, "system-cluster-critical") {
		t.Errorf("the system priority classes are missing:\n%s", out)
	}

	// a manifest of the other new kinds: applied, read, deleted
	manifest := strings.Replace(kindsYAML, "CSR_DATA", csrPEM(t, "ann"), 1)
	f := s.writeFile(t, "kinds.yaml", manifest)
	out = s.kubectl(t, false, "apply", "-f", f)
	if n := strings.Count(out, " created"); n != strings.Count(kindsYAML, "\nkind: ")+1 {
		t.Errorf("apply created %d objects:\n%s", n, out)
	}
	for _, res := range []string{"limitrange/limits", "podtemplate/tmpl", "replicationcontroller/rc", "persistentvolumeclaim/claim",
		"endpointslice.discovery.k8s.io/web-abc", "controllerrevision.apps/rev-1", "event.events.k8s.io/ev"} {
		if out := s.kubectl(t, false, "get", res, "-n", "team", "-o", "name"); strings.TrimSpace(out) != res {
			t.Errorf("get %s: %q", res, out)
		}
	}
	for _, res := range []string{"persistentvolume/pv", "storageclass.storage.k8s.io/fast", "certificatesigningrequest.certificates.k8s.io/csr"} {
		if out := s.kubectl(t, false, "get", res, "-o", "name"); strings.TrimSpace(out) != res {
			t.Errorf("get %s: %q", res, out)
		}
	}
	// the events.k8s.io event is a core event too (one resource, two versions)
	if out := s.kubectl(t, false, "get", "events.v1.", "ev", "-n", "team", "-o", "jsonpath={.reason}"); out != "Started" {
		t.Errorf("the event as a core event: reason %q", out)
	}
	// replication controllers scale
	if out := s.kubectl(t, false, "scale", "rc", "rc", "-n", "team", "--replicas=3"); !strings.Contains(out, "scaled") {
		t.Errorf("scale rc: %s", out)
	}
	out = s.kubectl(t, false, "delete", "-f", f)
	if n := strings.Count(out, " deleted"); n != strings.Count(kindsYAML, "\nkind: ")+1 {
		t.Errorf("delete removed %d objects:\n%s", n, out)
	}
	if out := s.kubectl(t, true, "get", "limitrange", "limits", "-n", "team"); !strings.Contains(out, `limitranges "limits" not found`) {
		t.Errorf("after delete: %s", out)
	}
}

const kindsYAML = `kind: LimitRange
apiVersion: v1
metadata: {name: limits, namespace: team}
spec:
  limits:
  - type: Container
    default: {cpu: 500m}
    defaultRequest: {cpu: 100m}
---
kind: PodTemplate
apiVersion: v1
metadata: {name: tmpl, namespace: team}
template:
  metadata: {labels: {app: t}}
  spec:
    containers: [{name: c, image: nginx}]
---
kind: ReplicationController
apiVersion: v1
metadata: {name: rc, namespace: team}
spec:
  replicas: 1
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec:
      containers: [{name: c, image: nginx}]
---
kind: PersistentVolume
apiVersion: v1
metadata: {name: pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /data}
---
kind: PersistentVolumeClaim
apiVersion: v1
metadata: {name: claim, namespace: team}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata: {name: fast}
provisioner: example.com/fast
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {name: web-abc, namespace: team, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.0.0.5]
ports:
- {name: http, port: 8080, protocol: TCP}
---
kind: ControllerRevision
apiVersion: apps/v1
metadata: {name: rev-1, namespace: team}
revision: 1
data: {spec: {template: {}}}
---
kind: Event
apiVersion: events.k8s.io/v1
metadata: {name: ev, namespace: team}
eventTime: "2026-01-02T03:04:05.000000Z"
reportingController: example.com/ctl
reportingInstance: ctl-1
action: Start
reason: Started
type: Normal
regarding: {kind: Pod, name: web, namespace: team}
note: started
---
kind: CertificateSigningRequest
apiVersion: certificates.k8s.io/v1
metadata: {name: csr}
spec:
  signerName: example.com/signer
  usages: [digital signature]
  request: CSR_DATA
`

// TestCSRApproval: kubectl certificate approve and deny go through the
// approval subresource; the main resource and status cannot approve.
func TestCSRApproval(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	for _, n := range []string{"ann", "bob"} {
		m := fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"%s"},
			"spec":{"signerName":"example.com/signer","usages":["client auth"],"request":"%s"}}`, n, csrPEM(t, n))
		s.kubectl(t, false, "create", "-f", s.writeFile(t, n+".json", m))
	}
	// a condition through the main resource is dropped (status is the
	// subresources'), as in Kubernetes
	admin := s.httpClient(t, true)
	code, resp := s.rawType(t, admin, "PATCH", "/apis/certificates.k8s.io/v1/certificatesigningrequests/ann", "application/merge-patch+json",
		`{"status":{"conditions":[{"type":"Approved","status":"True","reason":"Sneaky"}]}}`)
	if code != 200 || strings.Contains(resp, "Sneaky") {
		t.Fatalf("approval through the main resource: %d %s", code, resp)
	}
	// what kubectl certificate approve/deny send (kubectl sends them as
	// protobuf, which the server does not read yet: the protobuf task), as
	// JSON: the object with the condition added, PUT to approval
	decide := func(name, cond string) {
		t.Helper()
		var obj map[string]any
		if err := json.Unmarshal([]byte(s.kubectl(t, false, "get", "csr", name, "-o", "json")), &obj); err != nil {
			t.Fatal(err)
		}
		obj["status"] = map[string]any{"conditions": []any{map[string]any{"type": cond, "status": "True", "reason": "KubectlApprove", "message": "decided"}}}
		b, _ := json.Marshal(obj)
		if code, resp := s.rawType(t, admin, "PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/"+name+"/approval", "application/json", string(b)); code != 200 {
			t.Fatalf("%s %s: %d %s", cond, name, code, resp)
		}
	}
	decide("ann", "Approved")
	decide("bob", "Denied")
	out := s.kubectl(t, false, "get", "csr")
	for _, want := range []string{"SIGNERNAME", "example.com/signer", "Approved", "Denied"} {
		if !strings.Contains(out, want) {
			t.Errorf("get csr has no %q:\n%s", want, out)
		}
	}
	// the status subresource (a signer's) keeps the approval conditions
	code, resp = s.rawType(t, admin, "PATCH", "/apis/certificates.k8s.io/v1/certificatesigningrequests/ann/status", "application/merge-patch+json",
		`{"status":{"conditions":[{"type":"Failed","status":"True","reason":"SignerDown"}]}}`)
	if code != 200 || !strings.Contains(resp, `"type":"Approved"`) || !strings.Contains(resp, "SignerDown") {
		t.Fatalf("status update over an approval: %d %s", code, resp)
	}
	// approved and denied at once is invalid
	code, resp = s.rawType(t, admin, "PATCH", "/apis/certificates.k8s.io/v1/certificatesigningrequests/ann/approval", "application/merge-patch+json",
		`{"status":{"conditions":[{"type":"Approved","status":"True"},{"type":"Denied","status":"True"}]}}`)
	if code != 422 || !strings.Contains(resp, "status.conditions") {
		t.Fatalf("approved and denied: %d %s", code, resp)
	}
}
