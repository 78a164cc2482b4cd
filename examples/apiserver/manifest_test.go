package apiserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// nginxManifest is the documentation's kind of Deployment, with the
// fields the hand-written types lacked: security contexts, envFrom,
// configMapKeyRef/secretKeyRef/fieldRef/resourceFieldRef, secret,
// configMap (with items), projected and emptyDir volumes, the three
// probes, lifecycle hooks, affinity, topology spread, tolerations,
// init containers and image pull secrets.
const nginxManifest = `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}, "annotations": {"team": "web"}},
  "spec": {
    "replicas": 2,
    "revisionHistoryLimit": 5,
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {
        "securityContext": {"runAsNonRoot": true, "runAsUser": 101, "fsGroup": 101, "seccompProfile": {"type": "RuntimeDefault"}},
        "imagePullSecrets": [{"name": "pull"}],
        "serviceAccountName": "web",
        "priorityClassName": "system-cluster-critical",
        "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "echo ready"]}],
        "containers": [{
          "name": "nginx", "image": "nginx:1.27",
          "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
          "envFrom": [{"configMapRef": {"name": "conf"}}, {"prefix": "S_", "secretRef": {"name": "creds", "optional": true}}],
          "env": [
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "mode"}}},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"containerName": "nginx", "resource": "limits.cpu", "divisor": "1m"}}}
          ],
          "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
          "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}},
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 3, "periodSeconds": 10},
          "readinessProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 5},
          "startupProbe": {"exec": {"command": ["cat", "/tmp/started"]}},
          "lifecycle": {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}},
          "volumeMounts": [
            {"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": true},
            {"name": "tls", "mountPath": "/etc/tls"},
            {"name": "cache", "mountPath": "/var/cache/nginx"},
            {"name": "token", "mountPath": "/var/run/token"}
          ]
        }],
        "volumes": [
          {"name": "config", "configMap": {"name": "conf", "items": [{"key": "nginx.conf", "path": "default.conf"}]}},
          {"name": "tls", "secret": {"secretName": "web-tls", "defaultMode": 256}},
          {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
          {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600, "audience": "api"}}]}}
        ],
        "affinity": {
          "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}},
          "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "nginx"}}}}]}
        },
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "nginx"}}}],
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
        "nodeSelector": {"kubernetes.io/os": "linux"}
      }
    }
  }
}`

// statefulManifest has volumeClaimTemplates.
const statefulManifest = `{
  "apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "db", "namespace": "default"},
  "spec": {
    "serviceName": "db",
    "replicas": 1,
    "selector": {"matchLabels": {"app": "db"}},
    "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:16",
      "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
    "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
      "resources": {"requests": {"storage": "10Gi"}}}}]
  }
}`

// TestManifestsUnchanged: the documentation's manifests are accepted by
// kubectl (whose validation asks the server for strict field checking)
// and read back unchanged: every field applied is returned with the value
// applied (the server only adds defaults and metadata).
func TestManifestsUnchanged(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	// the Deployment by client-side apply, the StatefulSet by server-side
	// apply (its merge rules from the generated schema)
	for name, manifest := range map[string]string{"deployment/nginx": nginxManifest, "statefulset/db": statefulManifest} {
		f := s.writeFile(t, strings.ReplaceAll(name, "/", "-")+".json", manifest)
		args := []string{"apply", "-f", f}
		if name == "statefulset/db" {
			args = append(args, "--server-side")
		}
		if out := s.kubectl(t, false, args...); !strings.Contains(out, "created") && !strings.Contains(out, "serverside-applied") {
			t.Fatalf("apply %s: %s", name, out)
		}
		var applied, got any
		if err := json.Unmarshal([]byte(manifest), &applied); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s.kubectl(t, false, "get", name, "-o", "json")), &got); err != nil {
			t.Fatal(err)
		}
		if diff := subsetDiff("", applied, got); diff != "" {
			t.Errorf("%s read back changed: %s", name, diff)
		}
	}
	// the same Deployment taken over by server-side apply is unchanged:
	// every list merges by its key (containers, env, ports, volumes, ...)
	f := s.writeFile(t, "deployment-nginx.json", nginxManifest)
	if out := s.kubectl(t, false, "apply", "--server-side", "--force-conflicts", "-f", f); !strings.Contains(out, "serverside-applied") {
		t.Fatalf("server-side apply over client-side: %s", out)
	}
	var applied, got any
	json.Unmarshal([]byte(nginxManifest), &applied)
	if err := json.Unmarshal([]byte(s.kubectl(t, false, "get", "deployment", "nginx", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if diff := subsetDiff("", applied, got); diff != "" {
		t.Errorf("after server-side apply: %s", diff)
	}
	// defaults are added as Kubernetes adds them
	out := s.kubectl(t, false, "get", "deployment", "nginx", "-o",
		"jsonpath={.spec.progressDeadlineSeconds} {.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].terminationMessagePath} {.spec.template.spec.containers[0].livenessProbe.timeoutSeconds} {.spec.template.spec.volumes[1].secret.defaultMode}")
	if out != "600 Always /dev/termination-log 1 256" {
		t.Errorf("defaults: %q", out)
	}
}

// subsetDiff describes the first place where want is not part of got
// ("" when every field of want is in got with the same value; lists must
// have the same length).
func subsetDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s.%s: missing", path, k)
			}
			if d := subsetDiff(path+"."+k, v, gv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if d := subsetDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: got %v, want %v", path, got, want)
	}
	return ""
}

// TestKubectlFieldValidation: kubectl's field validation (server-side,
// fieldValidation=Strict by default) refuses unknown fields and fields
// spelled with other cases, naming them, and writes nothing; with
// --validate=warn the object is created and kubectl prints the warning;
// with --validate=false the field is dropped silently.
func TestKubectlFieldValidation(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	bad := strings.Replace(podYAML, "  - name: c\n", "  - name: c\n    imagePullPolicyy: Always\n    Image: x\n", 1)
	f := s.writeFile(t, "bad.yaml", bad)
	rev := s.revision(t)
	out := s.kubectl(t, true, "create", "-f", f)
	if !strings.Contains(out, `unknown field "spec.containers[0].imagePullPolicyy"`) || !strings.Contains(out, `unknown field "spec.containers[0].Image"`) {
		t.Errorf("strict: %s", out)
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("a refused object was written: revision %d -> %d", rev, got)
	}
	out = s.kubectl(t, false, "create", "--validate=warn", "-f", f)
	if !strings.Contains(out, "pod/web created") || !strings.Contains(out, `unknown field "spec.containers[0].imagePullPolicyy"`) {
		t.Errorf("warn: %s", out)
	}
	if img := s.kubectl(t, false, "get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"); img != "nginx" {
		t.Errorf("image %q: a field in another case must not set it", img)
	}
	out = s.kubectl(t, false, "create", "--validate=false", "-f", s.writeFile(t, "bad2.yaml", strings.Replace(bad, "name: web", "name: web2", 1)))
	if !strings.Contains(out, "pod/web2 created") || strings.Contains(out, "unknown field") {
		t.Errorf("ignore: %s", out)
	}
}
