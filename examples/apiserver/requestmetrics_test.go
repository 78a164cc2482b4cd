package apiserver

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRequestDurationMetric: creates and gets are timed by verb,
// resource and scope on the caller's registry and served at /metrics to
// an admin; an anonymous caller is refused /metrics.
func TestRequestDurationMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServer(t, func(c *Config) { c.MetricsRegistry = reg; c.AnonymousAuth = true })
	pods := podClient(t, s)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if _, err := pods.Create(ctx, newPod("default", name, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pods.Get(ctx, "default", "a"); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != RequestDurationMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			counts[labels(m)] += m.GetHistogram().GetSampleCount()
		}
	}
	for key, want := range map[string]uint64{"POST pods namespace": 2, "GET pods resource": 1} {
		if counts[key] != want {
			t.Errorf("%s: %d requests timed, want %d (all: %v)", key, counts[key], want, counts)
		}
	}
	code, body := s.raw(t, s.httpClient(t, true), http.MethodGet, "/metrics", "", "")
	if code != http.StatusOK || !strings.Contains(body, RequestDurationMetric+`_count{group="",resource="pods",scope="namespace",subresource="",verb="POST",version="v1"} 2`) {
		t.Errorf("admin GET /metrics: %d, want 200 with the POST count of 2:\n%.2000s", code, body)
	}
	if code, _ := s.raw(t, s.httpClient(t, false), http.MethodGet, "/metrics", "", ""); code != http.StatusForbidden {
		t.Errorf("anonymous GET /metrics: %d, want 403", code)
	}
}

func labels(m *dto.Metric) string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l["verb"] + " " + l["resource"] + " " + l["scope"]
}

// TestProfiling: /debug/pprof/ serves Go's profiles to an admin and
// refuses an anonymous caller; DisableProfiling turns it off (404), as
// Kubernetes' --profiling=false does.
func TestProfiling(t *testing.T) {
	s := startServer(t, func(c *Config) { c.AnonymousAuth = true })
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile: total",
		"/debug/pprof/heap?debug=1":      "heap profile:",
		"/debug/pprof/cmdline":           "",
	} {
		code, body := s.raw(t, s.httpClient(t, true), http.MethodGet, path, "", "")
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("admin GET %s: %d, want 200 with %q:\n%.500s", path, code, want, body)
		}
	}
	if code, _ := s.raw(t, s.httpClient(t, false), http.MethodGet, "/debug/pprof/heap", "", ""); code != http.StatusForbidden {
		t.Errorf("anonymous GET /debug/pprof/heap: %d, want 403", code)
	}
	off := startServer(t, func(c *Config) { c.DisableProfiling = true })
	if code, _ := off.raw(t, off.httpClient(t, true), http.MethodGet, "/debug/pprof/", "", ""); code != http.StatusNotFound {
		t.Errorf("GET /debug/pprof/ with DisableProfiling: %d, want 404", code)
	}
}
