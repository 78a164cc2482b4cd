package apiserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/rest"
)

// FuzzServer sends random methods, paths, queries and bodies through the
// whole apiserver (authentication, authorization, admission, handlers):
// never a 5xx or a panic, and a rejected request writes nothing.
func FuzzServer(f *testing.F) {
	for _, s := range []struct{ method, path, query, body string }{
		{"POST", "/api/v1/namespaces/default/pods", "", `{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}}`},
		{"POST", "/api/v1/namespaces/nope/pods", "", `{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}}`},
		{"POST", "/api/v1/namespaces/default/pods/a/binding", "", `{"target":{"name":"n"}}`},
		{"PATCH", "/apis/apps/v1/namespaces/default/deployments/d/scale", "", `{"spec":{"replicas":-1}}`},
		{"GET", "/api/v1/pods", "labelSelector=a%20notin%20(", ""},
		{"GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3D%3D%3D", ""},
		{"GET", "/apis/coordination.k8s.io/v1/namespaces/default/leases", "watch=1&resourceVersion=99999999", ""},
		{"DELETE", "/api/v1/namespaces/default", "", `{"preconditions":{"uid":"x"}}`},
		{"GET", "/openapi/v3/apis/apps/v1", "", ""},
		{"PUT", "/api/v1/nodes/n/status", "", `{"metadata":{"name":"n"},"status":{"conditions":[{}]}}`},
		{"POST", "/api/v1/namespaces/default/resourcequotas", "", `{"metadata":{"name":"q"},"spec":{"hard":{"cpu":"1x"}}}`},
	} {
		f.Add(s.method, s.path, s.query, s.body)
	}
	dir := f.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("admin-token,admin,0,system:masters\n"), 0o600)
	s, err := New(Config{DataDir: dir, Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off", TokenFile: tokens, MaxBodyBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	f.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		f.Fatalf("Run: %v", err)
	}
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		bctx := context.Background()
		before, err := s.Backend().Revision(bctx)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method, req.URL.Path, req.URL.RawQuery = method, path, query
		timeout := 30 * time.Second
		if info, ok := rest.ParseRequestInfo(req); ok && info.Verb == "watch" {
			timeout = 20 * time.Millisecond // ends valid watches
		}
		rctx, cancel := context.WithTimeout(bctx, timeout)
		defer cancel()
		req = req.WithContext(rctx)
		req.Header.Set("Authorization", "Bearer admin-token")
		if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
			req.Header.Set("Content-Type", "application/json")
			if method == http.MethodPatch {
				req.Header.Set("Content-Type", "application/merge-patch+json")
			}
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, rec.Code, rec.Body.String())
		}
		if rec.Code >= 300 {
			if after, _ := s.Backend().Revision(bctx); after != before {
				t.Fatalf("%s %s?%s was rejected (%d) but wrote: revision %d -> %d", method, path, query, rec.Code, before, after)
			}
		}
	})
}
