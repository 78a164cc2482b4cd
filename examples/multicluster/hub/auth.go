package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
)

// User is an authenticated caller of the hub.
type User struct {
	// Name is the user name.
	Name string
	// UID is the user's UID, if the authenticator knows one.
	UID string
	// Groups are the user's groups.
	Groups []string
	// Extra are the authenticator's extra attributes.
	Extra map[string][]string
}

// errUnauthorized: no credentials, or credentials the parent rejects.
var errUnauthorized = errors.New("unauthorized")

// authenticator identifies callers: by a client certificate the TLS layer
// verified against the client CA, or by a bearer token the parent
// apiserver resolves (a SelfSubjectReview made with that token, as a
// webhook token authenticator would use a TokenReview). Token answers are
// cached for ttl on the clock.
type authenticator struct {
	parentURL string
	anon      *http.Client // trusts the parent's CA, presents no certificate
	clock     clockwork.Clock
	ttl       time.Duration
	mu        sync.Mutex
	cache     map[[32]byte]cachedUser
}

type cachedUser struct {
	user    *User
	expires time.Time
}

// maxCache bounds a cache: past it, it is emptied (simple and bounded).
const maxCache = 4096

// authenticate returns the caller of r, or errUnauthorized.
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (*User, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		c := r.TLS.VerifiedChains[0][0]
		return &User{Name: c.Subject.CommonName, Groups: append(slices.Clone(c.Subject.Organization), "system:authenticated")}, nil
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, fmt.Errorf("%w: no client certificate or bearer token", errUnauthorized)
	}
	key := sha256.Sum256([]byte(token))
	now := a.clock.Now()
	a.mu.Lock()
	if c, ok := a.cache[key]; ok && now.Before(c.expires) {
		a.mu.Unlock()
		return c.user, nil
	}
	a.mu.Unlock()
	var review authentication.SelfSubjectReview
	review.APIVersion, review.Kind = "authentication.k8s.io/v1", "SelfSubjectReview"
	body, _ := json.Marshal(review)
	req, err := http.NewRequestWithContext(ctx, "POST", a.parentURL+"/apis/authentication.k8s.io/v1/selfsubjectreviews", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if err := do(a.anon, req, &review); err != nil {
		if errors.Is(err, errUnauthorized) {
			return nil, fmt.Errorf("%w: the parent rejects the token", errUnauthorized)
		}
		return nil, fmt.Errorf("authenticating with the parent: %w", err)
	}
	ui := review.Status.UserInfo
	if ui.Username == "" {
		return nil, fmt.Errorf("%w: the parent knows no user for the token", errUnauthorized)
	}
	u := &User{Name: ui.Username, UID: ui.UID, Groups: ui.Groups}
	if len(ui.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range ui.Extra {
			u.Extra[k] = []string(v)
		}
	}
	a.mu.Lock()
	if len(a.cache) >= maxCache {
		clear(a.cache)
	}
	a.cache[key] = cachedUser{u, now.Add(a.ttl)}
	a.mu.Unlock()
	return u, nil
}

// authorizer asks the parent apiserver whether a user may do something
// (a SubjectAccessReview made with the hub's own credentials), caching
// answers for ttl on the clock.
type authorizer struct {
	parentURL string
	client    *http.Client // the hub's credentials in the parent
	clock     clockwork.Clock
	ttl       time.Duration
	mu        sync.Mutex
	cache     map[string]cachedDecision
}

type cachedDecision struct {
	allowed bool
	reason  string
	expires time.Time
}

// authorize reports whether u may do attrs, and the parent's reason.
func (z *authorizer) authorize(ctx context.Context, u *User, attrs authorization.ResourceAttributes) (bool, string, error) {
	key := decisionKey(u, &attrs)
	now := z.clock.Now()
	z.mu.Lock()
	if c, ok := z.cache[key]; ok && now.Before(c.expires) {
		z.mu.Unlock()
		return c.allowed, c.reason, nil
	}
	z.mu.Unlock()
	sar := authorization.SubjectAccessReview{Spec: authorization.SubjectAccessReviewSpec{
		ResourceAttributes: &attrs, User: u.Name, Groups: u.Groups, UID: u.UID,
	}}
	sar.APIVersion, sar.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
	if len(u.Extra) > 0 {
		sar.Spec.Extra = map[string]authorization.ExtraValue{}
		for k, v := range u.Extra {
			sar.Spec.Extra[k] = authorization.ExtraValue(v)
		}
	}
	body, _ := json.Marshal(sar)
	req, err := http.NewRequestWithContext(ctx, "POST", z.parentURL+"/apis/authorization.k8s.io/v1/subjectaccessreviews", bytes.NewReader(body))
	if err != nil {
		return false, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	var answer authorization.SubjectAccessReview // not sar: its spec shares u's slices
	if err := do(z.client, req, &answer); err != nil {
		return false, "", fmt.Errorf("authorizing with the parent: %w", err)
	}
	st := answer.Status
	z.mu.Lock()
	if len(z.cache) >= maxCache {
		clear(z.cache)
	}
	z.cache[key] = cachedDecision{st.Allowed, st.Reason, now.Add(z.ttl)}
	z.mu.Unlock()
	return st.Allowed, st.Reason, nil
}

// decisionKey identifies a decision: the user's every attribute and the
// request's (fields separated by a byte no name holds).
func decisionKey(u *User, a *authorization.ResourceAttributes) string {
	fields := [...]string{u.Name, u.UID, a.Verb, a.Group, a.Version, a.Resource, a.Subresource, a.Namespace, a.Name}
	n := len(fields) + len(u.Groups)
	for _, f := range fields {
		n += len(f)
	}
	for _, g := range u.Groups {
		n += len(g)
	}
	var b strings.Builder
	b.Grow(n) // one allocation in the common case (no extra)
	for _, f := range fields {
		b.WriteString(f)
		b.WriteByte(0)
	}
	for _, g := range u.Groups {
		b.WriteString(g)
		b.WriteByte(1)
	}
	if len(u.Extra) > 0 {
		keys := make([]string, 0, len(u.Extra))
		for k := range u.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(k)
			b.WriteByte(2)
			for _, v := range u.Extra[k] {
				b.WriteString(v)
				b.WriteByte(1)
			}
		}
	}
	return b.String()
}

// do sends req and decodes a 2xx answer into out; a 401 is errUnauthorized.
func do(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errUnauthorized
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// verbOf maps an HTTP method to the verb a proxy subresource is
// authorized with, as Kubernetes does for nodes/proxy.
func verbOf(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}
