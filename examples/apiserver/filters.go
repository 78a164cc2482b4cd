package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The request path is a chain of http.Handler filters, outermost first:
// health (unauthenticated), request info, authentication (401), limits
// (413, 429), priority and fairness (queues, 429; apf.go), authorization
// (403), and then the resource mux. A filter
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

// withFenceAuthorization checks the fences of a request (rest.FenceHeader)
// before anything else reads them: at most rest.MaxFences (400), and each
// the key of an object the caller may get (resolve maps a key to it).
// Otherwise the answer is 403 and says nothing of the key: not whether it
// exists, nor its revision, so a fence cannot probe what the caller may not
// read.
func withFenceAuthorization(next http.Handler, z Authorizer, resolve func(key string) (group, resource, namespace, name string, ok bool)) http.Handler {
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
			group, res, ns, name, ok := resolve(f.Key)
			var d authz.Decision
			if ok && u != nil {
				d, _ = z.Authorize(&authz.Attributes{User: *u, Verb: "get", ResourceRequest: true, APIGroup: group, Resource: res, Namespace: ns, Name: name})
			}
			if d != authz.Allow {
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
