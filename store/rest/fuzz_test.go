package rest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzHandler sends random methods, paths, queries and bodies: the handler
// must never answer 5xx or panic, and requests it rejects write nothing.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, query, ct, body string }{
		{"POST", widgets, "", "application/json", `{"metadata":{"name":"a"}}`},
		{"GET", widgets, "labelSelector=a in (b", "", ""},
		{"GET", widgets, "watch=true&resourceVersion=abc", "", ""},
		{"GET", widgets, "watch=true&sendInitialEvents=true", "", ""},
		{"PATCH", widgets + "/a", "", "application/json-patch+json", `[{"op":"move","from":"/a","path":"/a/b"}]`},
		{"PATCH", widgets + "/a", "", "application/strategic-merge-patch+json", `{"$patch":"delete"}`},
		{"PUT", widgets + "/a/status", "", "", `{"metadata":{"name":"a","resourceVersion":"x"}}`},
		{"DELETE", widgets + "/a", "", "", `{"preconditions":{"resourceVersion":"-1"}}`},
		{"GET", "/apis/test.setpoint.dev/v1/widgets", "limit=1&continue=eyJ", "", ""},
		{"PUT", widgets + "/a/scale", "", "", `{}`},
		{"OPTIONS", "/api/v1/namespaces/x/widgets", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.ct, s.body)
	}
	ts := newTestServer(f)
	ctx := context.Background()
	if code, _, _ := ts.do(f, "POST", widgets, "", `{"metadata":{"name":"a"}}`); code != 201 {
		f.Fatalf("seed object: %d", code)
	}
	f.Fuzz(func(t *testing.T, method, path, query, ct, body string) {
		if strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || method == "" {
			return
		}
		before, err := ts.st.Backend().Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond) // ends valid watches
		defer cancel()
		req := httptest.NewRequestWithContext(rctx, http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		req.URL.RawQuery = query
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, rec.Code, rec.Body.String())
		}
		if rec.Code >= 300 {
			after, _ := ts.st.Backend().Revision(ctx)
			if after != before {
				t.Fatalf("%s %s?%s was rejected with %d but changed the store (%d -> %d)", method, path, query, rec.Code, before, after)
			}
		}
	})
}
