package rest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseRequestInfo(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		ok             bool
		want           RequestInfo
	}{
		{"GET", "/api/v1/pods", true, RequestInfo{APIVersion: "v1", Resource: "pods", Verb: "list"}},
		{"GET", "/api/v1/namespaces/ns/pods/web", true, RequestInfo{APIVersion: "v1", Resource: "pods", Namespace: "ns", Name: "web", Verb: "get"}},
		{"PUT", "/api/v1/namespaces/ns/pods/web/status", true, RequestInfo{APIVersion: "v1", Resource: "pods", Namespace: "ns", Name: "web", Subresource: "status", Verb: "update"}},
		{"GET", "/api/v1/namespaces/ns", true, RequestInfo{APIVersion: "v1", Resource: "namespaces", Name: "ns", Verb: "get"}},
		{"PATCH", "/api/v1/namespaces/ns/status", true, RequestInfo{APIVersion: "v1", Resource: "namespaces", Name: "ns", Subresource: "status", Verb: "patch"}},
		{"GET", "/api/v1/namespaces", true, RequestInfo{APIVersion: "v1", Resource: "namespaces", Verb: "list"}},
		{"GET", "/apis/apps/v1/watch/namespaces/ns/deployments", true, RequestInfo{APIVersion: "apps/v1", Resource: "deployments", Namespace: "ns", Verb: "watch"}},
		{"GET", "/apis/apps/v1/deployments?watch=true", true, RequestInfo{APIVersion: "apps/v1", Resource: "deployments", Verb: "watch"}},
		{"POST", "/apis/apps/v1/namespaces/ns/deployments", true, RequestInfo{APIVersion: "apps/v1", Resource: "deployments", Namespace: "ns", Verb: "create"}},
		{"DELETE", "/api/v1/namespaces/ns/pods", true, RequestInfo{APIVersion: "v1", Resource: "pods", Namespace: "ns", Verb: "deletecollection"}},
		{"DELETE", "/api/v1/nodes/n1", true, RequestInfo{APIVersion: "v1", Resource: "nodes", Name: "n1", Verb: "delete"}},
		{"GET", "/api", false, RequestInfo{}},
		{"GET", "/apis/apps", false, RequestInfo{}},
		{"GET", "/api/v1/a/b/c/d", false, RequestInfo{}},
		{"GET", "/api/v1/nodes/n1/proxy/stats/summary", true, RequestInfo{APIVersion: "v1", Resource: "nodes", Name: "n1", Subresource: "proxy", Verb: "get"}},
		{"GET", "/api/v1/nodes/n1/status/extra", false, RequestInfo{}},
		{"GET", "/api/v1//pods", false, RequestInfo{}},
		{"GET", "/healthz", false, RequestInfo{}},
	} {
		got, ok := ParseRequestInfo(httptest.NewRequest(tc.method, tc.target, nil))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s %s = %+v, %v; want %+v, %v", tc.method, tc.target, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRequestInfo(f *testing.F) {
	for _, s := range []string{"/api/v1/namespaces/a/pods/b/status", "/apis/g/v/watch/x", "/api/v1/namespaces//", "/apis///"} {
		f.Add("GET", s, "watch=true")
	}
	f.Fuzz(func(t *testing.T, method, path, query string) {
		r := &http.Request{Method: method, URL: httptest.NewRequest("GET", "/", nil).URL}
		r.URL.Path, r.URL.RawQuery = path, query
		info, ok := ParseRequestInfo(r)
		if !ok {
			return
		}
		if info.Resource == "" || info.APIVersion == "" || info.Verb == "" {
			t.Fatalf("%q parsed into an incomplete %+v", path, info)
		}
		for _, s := range []string{info.Resource, info.Name, info.Namespace, info.Subresource} {
			if strings.Contains(s, "/") {
				t.Fatalf("%q: a path segment with a slash in %+v", path, info)
			}
		}
	})
}
