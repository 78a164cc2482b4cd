package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/bootstrap"
)

// TestClusterInfoAnonymous: with anonymous auth on, a request without
// credentials may get kube-public's cluster-info (server URL and CA) and
// nothing else; bad credentials are still a 401; with it off (the
// default), anonymous requests are 401.
func TestClusterInfoAnonymous(t *testing.T) {
	s := startServer(t, func(c *Config) { c.AnonymousAuth, c.AdvertiseURL = true, "https://10.0.0.1:6443" })
	anon := s.httpClient(t, false)
	code, body := s.raw(t, anon, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", "", "")
	if code != 200 {
		t.Fatalf("anonymous get cluster-info: %d %s", code, body)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &cm); err != nil {
		t.Fatal(err)
	}
	var kc struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
				CA     []byte `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(cm.Data[bootstrap.KubeconfigKey]), &kc); err != nil || len(kc.Clusters) != 1 ||
		kc.Clusters[0].Cluster.Server != "https://10.0.0.1:6443" || string(kc.Clusters[0].Cluster.CA) != string(s.PKI().CACert) {
		t.Fatalf("cluster-info kubeconfig %q: %v", cm.Data[bootstrap.KubeconfigKey], err)
	}
	for _, tc := range []struct{ method, path, token string }{
		{"GET", "/api/v1/namespaces/kube-public/configmaps", ""},
		{"GET", "/api/v1/namespaces/kube-system/configmaps/cluster-info", ""},
		{"PUT", "/api/v1/namespaces/kube-public/configmaps/cluster-info", ""},
		{"GET", "/api/v1/namespaces/kube-system/secrets", ""},
	} {
		if code, body := s.raw(t, anon, tc.method, tc.path, "", `{}`); code != 403 || !strings.Contains(body, `system:anonymous`) {
			t.Errorf("anonymous %s %s: %d %s, want 403 naming system:anonymous", tc.method, tc.path, code, body)
		}
	}
	if code, _ := s.raw(t, anon, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", "not-a-token", ""); code != 401 {
		t.Errorf("a bad token: %d, want 401 (bad credentials are not anonymous)", code)
	}
	off := startServer(t)
	if code, _ := off.raw(t, off.httpClient(t, false), "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", "", ""); code != 401 {
		t.Errorf("anonymous auth off: %d, want 401", code)
	}
}
