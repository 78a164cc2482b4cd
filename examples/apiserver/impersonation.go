package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// Impersonation headers, as Kubernetes names them.
const (
	ImpersonateUserHeader        = "Impersonate-User"
	ImpersonateGroupHeader       = "Impersonate-Group"
	ImpersonateUIDHeader         = "Impersonate-Uid"
	ImpersonateExtraHeaderPrefix = "Impersonate-Extra-"
)

// withImpersonation lets a caller act as another user, as Kubernetes
// does: each requested attribute (the user or service account, every
// group, the UID, every extra value) needs its own "impersonate"
// permission, checked with the caller's identity; the first one refused
// answers 403 naming it, and the request goes no further. Groups or
// extras without a user are a 400. The impersonated user gets
// system:authenticated (and a service account its system:serviceaccounts
// groups) as an authenticated one would; the headers are removed.
func withImpersonation(next http.Handler, z func() Authorizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get(ImpersonateUserHeader)
		groups := r.Header.Values(ImpersonateGroupHeader)
		uid := r.Header.Get(ImpersonateUIDHeader)
		var extra map[string][]string // most requests impersonate nothing: no map
		for k, vs := range r.Header {
			if key, ok := strings.CutPrefix(k, ImpersonateExtraHeaderPrefix); ok {
				if extra == nil {
					extra = map[string][]string{}
				}
				extra[strings.ToLower(key)] = vs
			}
		}
		if name == "" && len(groups) == 0 && uid == "" && len(extra) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if name == "" {
			rest.WriteError(w, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
				fmt.Sprintf("requested %v without impersonating a user", describeImpersonation(groups, uid, extra))))
			return
		}
		caller := UserFrom(r.Context())
		if caller == nil {
			rest.WriteError(w, watch.NewStatusError(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized"))
			return
		}
		check := func(a *authz.Attributes) bool {
			a.User, a.Verb, a.ResourceRequest = *caller, "impersonate", true
			if d, why := z().Authorize(a); d != authz.Allow {
				rest.WriteError(w, forbidden(a, why))
				return false
			}
			return true
		}
		imp := &User{Name: name, UID: uid}
		if ns, sa, ok := serviceAccountOf(name); ok {
			if !check(&authz.Attributes{Resource: "serviceaccounts", Namespace: ns, Name: sa}) {
				return
			}
			if len(groups) == 0 {
				imp.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}
			}
		} else if !check(&authz.Attributes{Resource: "users", Name: name}) {
			return
		}
		for _, g := range groups {
			if !check(&authz.Attributes{Resource: "groups", Name: g}) {
				return
			}
			imp.Groups = append(imp.Groups, g)
		}
		if uid != "" && !check(&authz.Attributes{APIGroup: "authentication.k8s.io", Resource: "uids", Name: uid}) {
			return
		}
		for k, vs := range extra {
			for _, v := range vs {
				if !check(&authz.Attributes{APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: k, Name: v}) {
					return
				}
			}
			if imp.Extra == nil {
				imp.Extra = map[string][]string{}
			}
			imp.Extra[k] = vs
		}
		if name != "system:anonymous" && !slices.Contains(imp.Groups, "system:authenticated") {
			imp.Groups = append(imp.Groups, "system:authenticated")
		}
		// the request as the impersonated user, without the headers (a
		// copy of the header map only: the rest is not changed)
		hdr := r.Header.Clone()
		for k := range hdr {
			if strings.HasPrefix(k, "Impersonate-") {
				delete(hdr, k)
			}
		}
		r = r.WithContext(WithUser(WithImpersonator(r.Context(), caller), imp))
		r.Header = hdr
		next.ServeHTTP(w, r)
	})
}

func describeImpersonation(groups []string, uid string, extra map[string][]string) string {
	var parts []string
	if len(groups) > 0 {
		parts = append(parts, fmt.Sprintf("groups=%q", groups))
	}
	if uid != "" {
		parts = append(parts, fmt.Sprintf("uid=%q", uid))
	}
	if len(extra) > 0 {
		parts = append(parts, fmt.Sprintf("extra=%v", extra))
	}
	return strings.Join(parts, ", ")
}

// serviceAccountOf splits system:serviceaccount:<ns>:<name>.
func serviceAccountOf(user string) (ns, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != "" && !strings.Contains(name, ":")
}

type impersonatorKey struct{}

// WithImpersonator returns ctx recording the real caller of an
// impersonated request (the audit log names both).
func WithImpersonator(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, impersonatorKey{}, u)
}

// ImpersonatorFrom returns the real caller of an impersonated request, or
// nil when the request is not impersonated.
func ImpersonatorFrom(ctx context.Context) *User {
	u, _ := ctx.Value(impersonatorKey{}).(*User)
	return u
}
