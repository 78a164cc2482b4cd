package kubelet

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHealth: /healthz is 503 until the kubelet synced its pods and
// renewed its Lease, then 200; the metrics are on the caller's registry.
func TestHealth(t *testing.T) {
	c := startCluster(t)
	reg := prometheus.NewRegistry()
	k, err := New(Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: "node-1", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	k.HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before Run: %d %s", rec.Code, rec.Body)
	}
	k2, _ := runKubelet(t, Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: "node-2", Registerer: prometheus.NewRegistry()})
	deadline := time.Now().Add(30 * time.Second)
	for k2.Healthy() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("never healthy: %v", k2.Healthy())
		}
		time.Sleep(20 * time.Millisecond)
	}
	rec = httptest.NewRecorder()
	k2.HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"kubelet_running_pods", "kubelet_pod_status_writes_total", "kubelet_pod_start_duration_seconds"} {
		if !names[want] {
			t.Errorf("metric %s not registered; have %v", want, names)
		}
	}
	if _, err := New(Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: "node-3", Registerer: reg}); err == nil {
		t.Error("a second kubelet on the same registry: no error")
	}
}
