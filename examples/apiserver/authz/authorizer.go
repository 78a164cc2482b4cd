package authz

import (
	"strings"
)

// User is the caller a decision is about.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra holds the authenticator's extra attributes (scopes, ...).
	Extra map[string][]string
}

// Attributes describe one request to authorize, as Kubernetes'
// authorizer.Attributes do.
type Attributes struct {
	User User
	// Verb is the Kubernetes verb: get, list, watch, create, update,
	// patch, delete, deletecollection, or a special verb (impersonate,
	// bind, escalate, approve, ...); for a non-resource request, the
	// lower-cased HTTP method (get, post, put, delete, ...).
	Verb string
	// ResourceRequest is true for /api and /apis resource paths.
	ResourceRequest bool
	// APIGroup ("" for the core group), Resource, Subresource, Namespace
	// and Name describe a resource request.
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	// Path is the URL path of a non-resource request.
	Path string
}

// Decision is an authorizer's verdict.
type Decision int

const (
	// NoOpinion leaves the decision to the next authorizer; at the end of
	// a chain it means forbidden.
	NoOpinion Decision = iota
	// Allow allows the request.
	Allow
	// Deny forbids the request without asking later authorizers.
	Deny
)

// String returns "allow", "deny" or "no opinion".
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	}
	return "no opinion"
}

// Authorizer decides on requests. It must be safe for concurrent use.
type Authorizer interface {
	// Authorize returns a decision and a reason a person can read.
	Authorize(a *Attributes) (Decision, string)
}

// Func adapts a function to Authorizer.
type Func func(a *Attributes) (Decision, string)

// Authorize calls f.
func (f Func) Authorize(a *Attributes) (Decision, string) { return f(a) }

// Chain asks each authorizer in order; the first Allow or Deny is the
// answer, and NoOpinion if none has one (like Kubernetes'
// --authorization-mode=A,B,C).
type Chain []Authorizer

// Authorize implements Authorizer.
func (c Chain) Authorize(a *Attributes) (Decision, string) {
	var reasons []string
	for _, z := range c {
		d, why := z.Authorize(a)
		if d != NoOpinion {
			return d, why
		}
		if why != "" {
			reasons = append(reasons, why)
		}
	}
	return NoOpinion, strings.Join(reasons, "; ")
}

// Superuser allows everything to members of group (Kubernetes lets
// system:masters do everything before any authorizer is asked).
func Superuser(group string) Authorizer {
	return Func(func(a *Attributes) (Decision, string) {
		for _, g := range a.User.Groups {
			if g == group {
				return Allow, "member of " + group
			}
		}
		return NoOpinion, ""
	})
}

var (
	_ Authorizer = Chain(nil)
	_ Authorizer = Func(nil)
)
