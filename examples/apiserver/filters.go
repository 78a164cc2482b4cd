package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The request path is a chain of http.Handler filters, outermost first:
// health (unauthenticated), request info, authentication (401), limits
// (413, 429), authorization (403), and then the resource mux. A filter
// that rejects a request answers with a Kubernetes Status and never calls
// the next handler, so nothing is written.

type requestInfoKey struct{}

// requestInfo is what the request-info filter found.
type requestInfo struct {
	rest.RequestInfo
	// isResource is false for discovery, OpenAPI, /version and others.
	isResource bool
}

// RequestInfoFrom returns the resource request info the server parsed for
// a request (rest.ParseRequestInfo), and false for a request that is not
// for a resource (discovery, OpenAPI, /version).
func RequestInfoFrom(ctx context.Context) (rest.RequestInfo, bool) {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	if ri == nil {
		return rest.RequestInfo{}, false
	}
	return ri.RequestInfo, ri.isResource
}

// infoOf returns r's request info, parsing it if no filter has.
func infoOf(r *http.Request) (rest.RequestInfo, bool) {
	if ri, _ := r.Context().Value(requestInfoKey{}).(*requestInfo); ri != nil {
		return ri.RequestInfo, ri.isResource
	}
	info, ok := rest.ParseRequestInfo(r)
	return info, ok && info.Resource != ""
}

// withRequestInfo parses the resource path once for every later filter.
func withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := infoOf(r)
		ctx := context.WithValue(r.Context(), requestInfoKey{}, &requestInfo{RequestInfo: info, isResource: ok})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withHealth answers /healthz and /livez with ok, and /readyz with ok once
// ready reports no error (503 otherwise), before authentication.
func withHealth(next http.Handler, ready func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/livez", "/readyz":
		default:
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Path == "/readyz" {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok"))
	})
}

// withAuthentication answers 401 unless authn knows the caller; the user
// travels on in the context (UserFrom).
func withAuthentication(next http.Handler, authn Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := authn.Authenticate(r)
		if u == nil {
			rest.WriteError(w, watch.NewStatusError(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized"))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
	})
}

// limiter is a token bucket (rate per second, burst) plus a cap on
// requests in flight.
type limiter struct {
	rate     *rate.Limiter // nil: no rate limit
	clock    clockwork.Clock
	inflight chan struct{}
}

// newLimiter allows r requests per second with burst (default r, at least
// 1; r = 0 means no rate limit) and maxInflight at once.
func newLimiter(r float64, burst, maxInflight int, clock clockwork.Clock) *limiter {
	l := &limiter{clock: clock, inflight: make(chan struct{}, maxInflight)}
	if r > 0 {
		if burst == 0 {
			burst = max(int(r), 1)
		}
		l.rate = rate.NewLimiter(rate.Limit(r), burst)
	}
	return l
}

// acquire takes a token and an in-flight slot; ok is false when either is
// exhausted. release returns the slot.
func (l *limiter) acquire() (release func(), ok bool) {
	if l.rate != nil && !l.rate.AllowN(l.clock.Now(), 1) {
		return nil, false
	}
	select {
	case l.inflight <- struct{}{}:
		return func() { <-l.inflight }, true
	default:
		return nil, false
	}
}

// withLimits answers 413 for a body announced larger than maxBody (and
// cuts off one that turns out larger while it is read, which the handlers
// answer with 413), and 429 with Retry-After when the limiter refuses.
// Watches are long-running and take no token or slot.
func withLimits(next http.Handler, l *limiter, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			rest.WriteError(w, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge,
				fmt.Sprintf("request body of %d bytes is larger than the limit of %d bytes", r.ContentLength, maxBody)))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if info, ok := infoOf(r); !ok || info.Verb != "watch" {
			release, ok := l.acquire()
			if !ok {
				w.Header().Set("Retry-After", "1")
				rest.WriteError(w, watch.NewStatusError(http.StatusTooManyRequests, watch.StatusReasonTooManyRequests, "too many requests, please try again later"))
				return
			}
			defer release()
		}
		next.ServeHTTP(w, r)
	})
}

// Authorizer decides whether a user may make a resource request.
type Authorizer interface {
	// Allows reports whether u may do verb on resource (subresources as
	// "pods/status") in namespace ("" for cluster-scoped requests and
	// lists across namespaces).
	Allows(u *User, verb, resource, namespace string) bool
}

var _ Authorizer = Rules(nil)

// withAuthorization answers 403 unless authz allows the request. Requests
// that are not for a resource (discovery, OpenAPI, /version) are open to
// every authenticated user.
func withAuthorization(next http.Handler, authz Authorizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := infoOf(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		u := UserFrom(r.Context())
		resource := info.Resource
		if info.Subresource != "" {
			resource += "/" + info.Subresource
		}
		ns := info.Namespace
		if info.Resource == "namespaces" {
			ns = info.Name
		}
		if u == nil || !authz.Allows(u, info.Verb, resource, ns) {
			name := "system:anonymous"
			if u != nil {
				name = u.Name
			}
			msg := fmt.Sprintf("%s %q is forbidden: User %q cannot %s resource %q", info.Resource, info.Name, name, info.Verb, resource)
			if info.Namespace != "" {
				msg += fmt.Sprintf(" in the namespace %q", info.Namespace)
			}
			rest.WriteError(w, watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withFenceAuthorization checks the fences of a request (rest.FenceHeader)
// before anything else reads them: at most rest.MaxFences (400), and each
// the key of an object the caller may get (resolve maps a key to it).
// Otherwise the answer is 403 and says nothing of the key: not whether it
// exists, nor its revision, so a fence cannot probe what the caller may not
// read.
func withFenceAuthorization(next http.Handler, authz Authorizer, resolve func(key string) (resource, namespace, name string, ok bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values(rest.FenceHeader)
		if len(vals) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		fences, err := rest.ParseFences(vals)
		if err != nil {
			rest.WriteError(w, err)
			return
		}
		u := UserFrom(r.Context())
		for _, f := range fences {
			res, ns, _, ok := resolve(f.Key)
			if !ok || u == nil || !authz.Allows(u, "get", res, ns) {
				name := "system:anonymous"
				if u != nil {
					name = u.Name
				}
				rest.WriteError(w, watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
					fmt.Sprintf("%s %q is forbidden: User %q may not use it as a fence: a fence must be the key of an object the user may get", rest.FenceHeader, f.Key, name)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
