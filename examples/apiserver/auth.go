package apiserver

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
)

// User is an authenticated caller.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra are further attributes an authenticator knows (for a service
	// account token: the bound pod's name and UID, the credential ID).
	Extra map[string][]string
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user ctx carries, or nil.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// Tokens maps bearer tokens to users.
type Tokens map[string]*User

// ParseTokens reads a Kubernetes static token file: CSV lines
// token,user,uid[,"group1,group2"]. Errors name the line.
func ParseTokens(r io.Reader) (Tokens, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	out := Tokens{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) < 3 || len(rec) > 4 {
			return nil, fmt.Errorf("token file line %d: want token,user,uid[,\"group1,group2\"], got %d fields", line, len(rec))
		}
		if rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("token file line %d: token and user must not be empty", line)
		}
		if _, dup := out[rec[0]]; dup {
			return nil, fmt.Errorf("token file line %d: duplicate token", line)
		}
		u := &User{Name: rec[1], UID: rec[2]}
		if len(rec) == 4 && rec[3] != "" {
			for _, g := range strings.Split(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		out[rec[0]] = u
	}
}

// Authenticator tells who sent a request.
type Authenticator interface {
	// Authenticate returns the request's user, or nil when the request
	// carries no credentials this authenticator knows.
	Authenticate(r *http.Request) *User
}

// Authenticators tries each authenticator in order; the first user wins.
type Authenticators []Authenticator

// Authenticate returns the first authenticator's user, or nil.
func (as Authenticators) Authenticate(r *http.Request) *User {
	for _, a := range as {
		if u := a.Authenticate(r); u != nil {
			return u
		}
	}
	return nil
}

// ClientCertAuthenticator takes the user from a client certificate that
// the TLS handshake verified against the server's CA: CN is the user name,
// O the groups.
type ClientCertAuthenticator struct{}

// Authenticate returns the verified certificate's user, or nil.
func (ClientCertAuthenticator) Authenticate(r *http.Request) *User {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	c := r.TLS.VerifiedChains[0][0]
	if c.Subject.CommonName == "" {
		return nil
	}
	return &User{Name: c.Subject.CommonName, Groups: append([]string{"system:authenticated"}, c.Subject.Organization...)}
}

// Authenticate returns the user of the request's bearer token, or nil for
// a request without one or with an unknown one. Tokens are compared in
// constant time.
func (ts Tokens) Authenticate(r *http.Request) *User {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil
	}
	for t, u := range ts {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			cp := *u
			cp.Groups = append([]string{"system:authenticated"}, u.Groups...)
			return &cp
		}
	}
	return nil
}

// Rule grants verbs on resources in namespaces to a user or a group. "*"
// matches anything. An empty Namespaces list matches every namespace and
// cluster-scoped resources; "" in it matches cluster-scoped requests only.
type Rule struct {
	User       string   `json:"user,omitempty"`
	Group      string   `json:"group,omitempty"`
	Verbs      []string `json:"verbs"`
	Resources  []string `json:"resources"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// Rules is an authorization policy: a request is allowed when one rule
// matches it.
type Rules []Rule

// ParseRules reads an authorization rules file: a JSON array of Rule.
// Unknown fields, and rules without a subject, verbs or resources, are
// errors naming the rule.
func ParseRules(r io.Reader) (Rules, error) {
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	var rules Rules
	if err := d.Decode(&rules); err != nil {
		return nil, fmt.Errorf("rules file: %w", err)
	}
	for i, ru := range rules {
		switch {
		case (ru.User == "") == (ru.Group == ""):
			return nil, fmt.Errorf("rules file: rule %d: exactly one of user and group must be set", i)
		case len(ru.Verbs) == 0:
			return nil, fmt.Errorf("rules file: rule %d: verbs must not be empty", i)
		case len(ru.Resources) == 0:
			return nil, fmt.Errorf("rules file: rule %d: resources must not be empty", i)
		}
	}
	return rules, nil
}

// DefaultRules let the system:masters group do everything.
var DefaultRules = Rules{{Group: "system:masters", Verbs: []string{"*"}, Resources: []string{"*"}}}

func match(list []string, v string) bool {
	return slices.Contains(list, "*") || slices.Contains(list, v)
}

// Allows reports whether u may do verb on resource (with subresource as
// "pods/status") in namespace ("" for cluster-scoped or all namespaces).
func (rules Rules) Allows(u *User, verb, resource, namespace string) bool {
	for _, ru := range rules {
		if ru.User != "" && ru.User != u.Name {
			continue
		}
		if ru.Group != "" && !slices.Contains(u.Groups, ru.Group) {
			continue
		}
		if !match(ru.Verbs, verb) || !match(ru.Resources, resource) {
			continue
		}
		if len(ru.Namespaces) > 0 && !match(ru.Namespaces, namespace) {
			continue
		}
		return true
	}
	return false
}

func loadTokens(path string) (Tokens, error) {
	if path == "" {
		return Tokens{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTokens(f)
}

func loadRules(path string) (Rules, error) {
	if path == "" {
		return DefaultRules, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := ParseRules(f)
	if err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, errors.New("rules file has no rules: nobody could do anything")
	}
	return rules, nil
}
