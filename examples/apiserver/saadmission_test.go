package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestServiceAccountAdmission(t *testing.T) {
	s := startServer(t, func(c *Config) { c.ServiceAccountTokenVolumes = true })
	admin := s.httpClient(t, true)
	if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces/default/serviceaccounts", "", `{"metadata":{"name":"quiet"},"automountServiceAccountToken":false}`); code != 201 {
		t.Fatalf("create sa: %d %s", code, body)
	}
	create := func(name, spec string) *api.Pod {
		t.Helper()
		code, body := s.raw(t, admin, "POST", "/api/v1/namespaces/default/pods", "", `{"metadata":{"name":"`+name+`"},"spec":`+spec+`}`)
		var p api.Pod
		if code != 201 || json.Unmarshal([]byte(body), &p) != nil {
			t.Fatalf("create pod %s: %d %s", name, code, body)
		}
		return &p
	}
	p := create("plain", `{"initContainers":[{"name":"i","image":"busybox"}],"containers":[{"name":"c","image":"nginx"}]}`)
	if p.Spec.ServiceAccountName != "default" || len(p.Spec.Volumes) != 1 {
		t.Fatalf("plain pod: sa %q, volumes %+v", p.Spec.ServiceAccountName, p.Spec.Volumes)
	}
	v := p.Spec.Volumes[0]
	if !strings.HasPrefix(v.Name, "kube-api-access-") || len(v.Name) != len("kube-api-access-")+5 || v.Projected == nil || len(v.Projected.Sources) != 3 ||
		v.Projected.Sources[0].ServiceAccountToken == nil || *v.Projected.Sources[0].ServiceAccountToken.ExpirationSeconds != 3607 ||
		v.Projected.Sources[1].ConfigMap.Name != "kube-root-ca.crt" || v.Projected.Sources[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" {
		t.Fatalf("volume: %+v", v)
	}
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != v.Name || !c.VolumeMounts[0].ReadOnly || c.VolumeMounts[0].MountPath != ServiceAccountTokenMountPath {
			t.Fatalf("container %s mounts %+v", c.Name, c.VolumeMounts)
		}
	}
	if p := create("quiet-sa", `{"serviceAccountName":"quiet","containers":[{"name":"c","image":"nginx"}]}`); len(p.Spec.Volumes) != 0 {
		t.Fatalf("service account with automount off: %+v", p.Spec.Volumes)
	}
	if p := create("pod-off", `{"automountServiceAccountToken":false,"containers":[{"name":"c","image":"nginx"}]}`); len(p.Spec.Volumes) != 0 {
		t.Fatalf("pod with automount off: %+v", p.Spec.Volumes)
	}
	// The pod's own setting wins over the service account's.
	if p := create("pod-on", `{"serviceAccountName":"quiet","automountServiceAccountToken":true,"containers":[{"name":"c","image":"nginx"}]}`); len(p.Spec.Volumes) != 1 {
		t.Fatalf("pod with automount on: %+v", p.Spec.Volumes)
	}
	own := create("own", `{"volumes":[{"name":"mine","emptyDir":{}}],"containers":[{"name":"c","image":"nginx","volumeMounts":[{"name":"mine","mountPath":"`+ServiceAccountTokenMountPath+`"}]}]}`)
	if len(own.Spec.Volumes) != 1 || own.Spec.Volumes[0].Name != "mine" {
		t.Fatalf("pod mounting the path itself: %+v", own.Spec.Volumes)
	}
}
