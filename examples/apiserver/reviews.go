package apiserver

import (
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The access review endpoints are create-only resources that store
// nothing: POST a review, get it back with its status filled in, as in
// Kubernetes (kubectl auth can-i, kubectl auth whoami).
//
//   - authorization.k8s.io/v1 selfsubjectaccessreviews: may the caller do
//     this?
//   - selfsubjectrulesreviews: what may the caller do in a namespace?
//   - subjectaccessreviews: may this user (spec.user, groups, extra) do
//     this?
//   - namespaces/<ns>/localsubjectaccessreviews: the same, for a resource
//     in <ns> only.
//   - authentication.k8s.io/v1 selfsubjectreviews: who is the caller?
type reviewHandler struct {
	z    Authorizer
	rbac *authz.RBAC
}

// reviewKinds maps a review resource to its kind.
var reviewKinds = map[string]string{
	"selfsubjectaccessreviews":  "SelfSubjectAccessReview",
	"selfsubjectrulesreviews":   "SelfSubjectRulesReview",
	"subjectaccessreviews":      "SubjectAccessReview",
	"localsubjectaccessreviews": "LocalSubjectAccessReview",
	"selfsubjectreviews":        "SelfSubjectReview",
}

// protoUnmarshaler is what generated protobuf types implement.
type protoUnmarshaler interface{ Unmarshal([]byte) error }

// decodeReview reads r's body (JSON or Kubernetes protobuf) into obj.
func decodeReview(r *http.Request, kind string, obj protoUnmarshaler) error {
	data, err := io.ReadAll(r.Body) // the limits filter bounds it
	if err != nil {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, "reading body: "+err.Error())
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), watch.MediaTypeProtobuf) {
		env, err := watch.ParseEnvelope(data)
		if err == nil {
			err = obj.Unmarshal(env.Raw)
		}
		if err != nil {
			return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, fmt.Sprintf("decoding %s from protobuf: %v", kind, err))
		}
		return nil
	}
	if err := json.Unmarshal(data, obj); err != nil {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, fmt.Sprintf("decoding %s: %v", kind, err))
	}
	return nil
}

func invalidReview(kind, field, msg string) error {
	return watch.NewStatusError(http.StatusUnprocessableEntity, watch.StatusReasonInvalid, fmt.Sprintf("%s.authorization.k8s.io is invalid: %s: %s", kind, field, msg))
}

func (h reviewHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	kind := reviewKinds[info.Resource]
	if r.Method != http.MethodPost || info.Name != "" || info.Subresource != "" {
		rest.WriteError(w, watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s only supports create (POST to the collection)", info.Resource)))
		return
	}
	out, err := h.review(r, info, kind)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(out)
}

func (h reviewHandler) review(r *http.Request, info rest.RequestInfo, kind string) (any, error) {
	u := UserFrom(r.Context())
	if u == nil {
		return nil, watch.NewStatusError(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized")
	}
	tm := store.TypeMeta{APIVersion: info.APIVersion, Kind: kind}
	switch info.Resource {
	case "selfsubjectreviews":
		var in authentication.SelfSubjectReview
		if err := decodeReview(r, kind, &in); err != nil {
			return nil, err
		}
		in.TypeMeta = tm
		in.Status.UserInfo = authentication.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
		for k, v := range u.Extra {
			if in.Status.UserInfo.Extra == nil {
				in.Status.UserInfo.Extra = map[string]authentication.ExtraValue{}
			}
			in.Status.UserInfo.Extra[k] = v
		}
		return &in, nil
	case "selfsubjectaccessreviews":
		var in authorization.SelfSubjectAccessReview
		if err := decodeReview(r, kind, &in); err != nil {
			return nil, err
		}
		a, err := reviewAttributes(kind, *u, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes)
		if err != nil {
			return nil, err
		}
		in.TypeMeta, in.Status = tm, h.decide(a)
		return &in, nil
	case "subjectaccessreviews", "localsubjectaccessreviews":
		var in authorization.SubjectAccessReview
		if err := decodeReview(r, kind, &in); err != nil {
			return nil, err
		}
		if in.Spec.User == "" && len(in.Spec.Groups) == 0 {
			return nil, invalidReview(kind, "spec.user", "at least one of user or group must be specified")
		}
		if info.Resource == "localsubjectaccessreviews" {
			if in.Spec.NonResourceAttributes != nil {
				return nil, invalidReview(kind, "spec.nonResourceAttributes", "disallowed on this kind of request")
			}
			if ra := in.Spec.ResourceAttributes; ra != nil && ra.Namespace != info.Namespace {
				return nil, invalidReview(kind, "spec.resourceAttributes.namespace", fmt.Sprintf("must equal the namespace of the request (%q)", info.Namespace))
			}
		}
		subject := User{Name: in.Spec.User, UID: in.Spec.UID, Groups: in.Spec.Groups}
		for k, v := range in.Spec.Extra {
			if subject.Extra == nil {
				subject.Extra = map[string][]string{}
			}
			subject.Extra[k] = v
		}
		a, err := reviewAttributes(kind, subject, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes)
		if err != nil {
			return nil, err
		}
		in.TypeMeta, in.Status = tm, h.decide(a)
		if info.Resource == "localsubjectaccessreviews" {
			in.Namespace = info.Namespace
		}
		return &in, nil
	case "selfsubjectrulesreviews":
		var in authorization.SelfSubjectRulesReview
		if err := decodeReview(r, kind, &in); err != nil {
			return nil, err
		}
		in.TypeMeta = tm
		in.Status = rulesReview(h.rbac.RulesFor(u, in.Spec.Namespace))
		// The Node authorizer's grants depend on the objects asked for:
		// they cannot be listed, as in Kubernetes.
		in.Status.Incomplete = slices.Contains(u.Groups, NodesGroup)
		return &in, nil
	}
	return nil, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource")
}

// reviewAttributes turns a review's spec into attributes: exactly one of
// resource and non-resource attributes.
func reviewAttributes(kind string, u User, ra *authorization.ResourceAttributes, nra *authorization.NonResourceAttributes) (*authz.Attributes, error) {
	switch {
	case ra == nil && nra == nil:
		return nil, invalidReview(kind, "spec", "exactly one of nonResourceAttributes or resourceAttributes must be specified")
	case ra != nil && nra != nil:
		return nil, invalidReview(kind, "spec", "nonResourceAttributes and resourceAttributes cannot both be specified")
	case nra != nil:
		return &authz.Attributes{User: u, Verb: nra.Verb, Path: nra.Path}, nil
	}
	return &authz.Attributes{User: u, Verb: ra.Verb, ResourceRequest: true, APIGroup: ra.Group, Resource: ra.Resource,
		Subresource: ra.Subresource, Namespace: ra.Namespace, Name: ra.Name}, nil
}

func (h reviewHandler) decide(a *authz.Attributes) authorization.SubjectAccessReviewStatus {
	d, why := h.z.Authorize(a)
	return authorization.SubjectAccessReviewStatus{Allowed: d == authz.Allow, Denied: d == authz.Deny, Reason: why}
}

// rulesReview splits RBAC rules into resource and non-resource rules.
func rulesReview(rules []rbac.PolicyRule) authorization.SubjectRulesReviewStatus {
	st := authorization.SubjectRulesReviewStatus{ResourceRules: []authorization.ResourceRule{}, NonResourceRules: []authorization.NonResourceRule{}}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorization.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
		if len(r.Resources) > 0 {
			st.ResourceRules = append(st.ResourceRules, authorization.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
	}
	return st
}
