package apiserver

import (
	"context"
	"errors"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// next records whether a filter passed the request on, and with which
// user and request info.
type next struct {
	called atomic.Int32
	user   *User
	body   string
}

func (n *next) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.called.Add(1)
	n.user = UserFrom(r.Context())
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		n.body = string(b)
	}
	w.WriteHeader(http.StatusNoContent)
}

func request(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return httptest.NewRequest(method, path, r)
}

func serveOne(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// wantStatus checks a rejection: the code, a Status body with the reason,
// and that the next handler was never called.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, n *next, code int, reason string) {
	t.Helper()
	if rec.Code != code || !strings.Contains(rec.Body.String(), `"kind":"Status"`) || !strings.Contains(rec.Body.String(), `"reason":"`+reason+`"`) {
		t.Fatalf("got %d %s, want %d with a %s Status", rec.Code, rec.Body, code, reason)
	}
	if n.called.Load() != 0 {
		t.Fatal("the rejected request reached the next handler")
	}
}

func TestAuthenticationFilter(t *testing.T) {
	tokens := Tokens{"secret": {Name: "alice", UID: "1", Groups: []string{"devs"}}}
	for _, tc := range []struct{ name, header string }{
		{"no credentials", ""},
		{"unknown token", "Bearer nope"},
		{"empty token", "Bearer "},
		{"basic auth", "Basic YTpi"},
	} {
		n := &next{}
		r := request("POST", "/api/v1/namespaces/default/pods", "{}")
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, serveOne(withAuthentication(n, Authenticators{ClientCertAuthenticator{}, tokens}), r), n, 401, "Unauthorized")
		})
	}
	n := &next{}
	r := request("GET", "/api/v1/pods", "")
	r.Header.Set("Authorization", "Bearer secret")
	if rec := serveOne(withAuthentication(n, tokens), r); rec.Code != 204 || n.user == nil || n.user.Name != "alice" ||
		strings.Join(n.user.Groups, ",") != "system:authenticated,devs" {
		t.Fatalf("token request: %d, user %+v", rec.Code, n.user)
	}
}

func TestAuthorizationFilter(t *testing.T) {
	rules := Rules{{User: "alice", Verbs: []string{"get", "list"}, Resources: []string{"pods"}, Namespaces: []string{"dev"}}}
	// The rules file has no opinion on discovery: RBAC's bootstrap
	// policy (system:discovery, system:public-info-viewer) grants it.
	z := authz.Chain{rules, authz.NewRBAC(authz.NewMapSource(nil, authz.BootstrapClusterRoles(), nil, authz.BootstrapClusterRoleBindings()))}
	alice := &User{Name: "alice", Groups: []string{"system:authenticated"}}
	for _, tc := range []struct {
		method, path string
		allowed      bool
	}{
		{"GET", "/api/v1/namespaces/dev/pods", true},
		{"GET", "/api/v1/namespaces/dev/pods/p", true},
		{"GET", "/api/v1/namespaces/prod/pods", false},
		{"POST", "/api/v1/namespaces/dev/pods", false},
		{"GET", "/api/v1/namespaces/dev/pods/p/status", false},
		{"GET", "/api/v1/pods", false},
		{"GET", "/api", true},     // discovery is open to authenticated users
		{"GET", "/version", true}, // so is /version
		{"POST", "/version", false},
		{"GET", "/metrics", false},
	} {
		n := &next{}
		r := request(tc.method, tc.path, "")
		r = r.WithContext(WithUser(r.Context(), alice))
		rec := serveOne(withRequestInfo(withAuthorization(n, z)), r)
		if tc.allowed {
			if rec.Code != 204 || n.called.Load() != 1 {
				t.Errorf("%s %s: %d, want it passed on", tc.method, tc.path, rec.Code)
			}
			continue
		}
		t.Run(tc.method+" "+tc.path, func(t *testing.T) { wantStatus(t, rec, n, 403, "Forbidden") })
	}
	// without a user (no authentication filter in front): forbidden
	n := &next{}
	wantStatus(t, serveOne(withAuthorization(n, DefaultRules), request("GET", "/api/v1/pods", "")), n, 403, "Forbidden")
}

func TestLimitsFilterBodySize(t *testing.T) {
	l := newLimiter(0, 0, 10, clockwork.NewFakeClock())
	n := &next{}
	// announced too large: 413 at once
	wantStatus(t, serveOne(withLimits(n, l, 8), request("POST", "/api/v1/namespaces/d/pods", "0123456789")), n, 413, "RequestEntityTooLarge")
	// not announced (chunked): cut off while the handler reads it
	r := request("POST", "/api/v1/namespaces/d/pods", "")
	r.Body, r.ContentLength = io.NopCloser(strings.NewReader("0123456789")), -1
	if rec := serveOne(withLimits(n, l, 8), r); rec.Code != 413 || n.body != "" {
		t.Fatalf("chunked body over the limit: %d, the handler read %q", rec.Code, n.body)
	}
	n = &next{}
	if rec := serveOne(withLimits(n, l, 8), request("POST", "/api/v1/namespaces/d/pods", "01234567")); rec.Code != 204 || n.body != "01234567" {
		t.Fatalf("body at the limit: %d %q", rec.Code, n.body)
	}
}

func TestLimitsFilterRate(t *testing.T) {
	clock := clockwork.NewFakeClock()
	l := newLimiter(2, 2, 10, clock)
	take := func(path string) int {
		return serveOne(withLimits(&next{}, l, 1<<20), request("GET", path, "")).Code
	}
	if a, b := take("/api/v1/pods"), take("/api/v1/pods"); a != 204 || b != 204 {
		t.Fatalf("burst of 2: %d %d", a, b)
	}
	n := &next{}
	rec := serveOne(withLimits(n, l, 1<<20), request("POST", "/api/v1/namespaces/d/pods", "{}"))
	wantStatus(t, rec, n, 429, "TooManyRequests")
	if rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("429 without Retry-After: %v", rec.Header())
	}
	if code := take("/api/v1/pods?watch=true"); code != 429 {
		t.Fatalf("a watch takes a token too (issue 12 case 12): %d, want 429", code)
	}
	clock.Advance(500 * time.Millisecond) // one token at 2/s
	if a, b := take("/api/v1/pods"), take("/api/v1/pods"); a != 204 || b != 429 {
		t.Fatalf("after 500ms at 2/s: %d %d, want one more request", a, b)
	}
}

// TestLimiterInflightStress: many goroutines never hold more than the
// in-flight cap at once.
func TestLimiterInflightStress(t *testing.T) {
	l := newLimiter(0, 0, 4, clockwork.NewFakeClock())
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 200 {
				rel, ok := l.acquire(l.inflight)
				if !ok {
					continue
				}
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				cur.Add(-1)
				rel()
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 4 || p < 1 {
		t.Fatalf("peak in flight %d, want 1..4", p)
	}
}

func TestHealthFilter(t *testing.T) {
	var ready error = errors.New("etcd down")
	n := &next{}
	h := withHealth(n, func(context.Context) error { return ready })
	for _, p := range []string{"/healthz", "/livez"} {
		if rec := serveOne(h, request("GET", p, "")); rec.Code != 200 || rec.Body.String() != "ok" {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if rec := serveOne(h, request("GET", "/readyz", "")); rec.Code != 503 || !strings.Contains(rec.Body.String(), "etcd down") {
		t.Fatalf("readyz while not ready: %d %s", rec.Code, rec.Body)
	}
	ready = nil
	if rec := serveOne(h, request("GET", "/readyz", "")); rec.Code != 200 {
		t.Fatalf("readyz: %d", rec.Code)
	}
	if n.called.Load() != 0 {
		t.Fatal("health requests reached the next handler")
	}
	if rec := serveOne(h, request("GET", "/api", "")); rec.Code != 204 || n.called.Load() != 1 {
		t.Fatalf("other paths pass: %d", rec.Code)
	}
}
