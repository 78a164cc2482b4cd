package apiserver

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// tokenRequestHandler serves POST serviceaccounts/<name>/token
// (authentication.k8s.io/v1 TokenRequest), as kubectl create token calls
// it: the service account must exist; audiences default to the API's;
// expirationSeconds defaults to one hour, may not be under ten minutes and
// is cut to the configured maximum; a bound object (a Pod or a Secret in
// the same namespace) must exist, with the UID given if one is. Nothing is
// stored.
type tokenRequestHandler struct {
	auth    *saTokenAuthenticator
	maxBody int64
}

func (h tokenRequestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	tr, err := h.serve(r, info)
	if err != nil {
		writeStatus(w, rest.ErrorStatus(err, "TokenRequest", "authentication.k8s.io", info.Name))
		return
	}
	if strings.Contains(r.Header.Get("Accept"), watch.MediaTypeProtobuf) {
		if b, err := watch.MarshalEnvelope(tr.APIVersion, tr.Kind, tr); err == nil {
			w.Header().Set("Content-Type", watch.MediaTypeProtobuf)
			w.WriteHeader(http.StatusCreated)
			w.Write(b)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(tr)
}

func badRequest(msg string) error {
	return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, msg)
}

// invalidTokenRequest is the 422 for field of a TokenRequest.
func invalidTokenRequest(field, msg string) error {
	return &store.FieldError{Field: field, Reason: msg}
}

func (h tokenRequestHandler) serve(r *http.Request, info rest.RequestInfo) (*authentication.TokenRequest, error) {
	if r.Method != http.MethodPost {
		return nil, watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "serviceaccounts/token only supports POST")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "" && ct != watch.MediaTypeJSON && ct != watch.MediaTypeProtobuf {
		return nil, watch.NewStatusError(http.StatusUnsupportedMediaType, watch.StatusReasonUnsupportedMediaType,
			fmt.Sprintf("serviceaccounts/token accepts %s and %s, not %q", watch.MediaTypeJSON, watch.MediaTypeProtobuf, ct))
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, watch.NewStatusError(http.StatusRequestEntityTooLarge, watch.StatusReasonRequestEntityTooLarge, "request body too large")
		}
		return nil, badRequest("reading body: " + err.Error())
	}
	var tr authentication.TokenRequest
	if ct == watch.MediaTypeProtobuf {
		env, err := watch.ParseEnvelope(data)
		if err == nil {
			err = tr.Unmarshal(env.Raw)
		}
		if err != nil {
			return nil, badRequest("decoding TokenRequest: " + err.Error())
		}
	} else if err := json.Unmarshal(data, &tr); err != nil {
		return nil, badRequest("decoding TokenRequest: " + err.Error())
	}
	if tr.Name != "" && tr.Name != info.Name {
		return nil, badRequest(fmt.Sprintf("the TokenRequest's name %q does not match the service account %q", tr.Name, info.Name))
	}
	ti := h.auth.ti
	ttl := DefaultTokenExpiration
	if e := tr.Spec.ExpirationSeconds; e != nil {
		switch d := time.Duration(*e) * time.Second; {
		case *e < int64(MinTokenExpiration/time.Second):
			return nil, invalidTokenRequest("spec.expirationSeconds", fmt.Sprintf("%d: may not specify a duration less than 10 minutes", *e))
		case *e > 1<<32:
			return nil, invalidTokenRequest("spec.expirationSeconds", fmt.Sprintf("%d: may not specify a duration larger than 2^32 seconds", *e))
		case d > ti.maxTTL:
			ttl = ti.maxTTL
		default:
			ttl = d
		}
	}
	if len(tr.Spec.Audiences) == 0 {
		tr.Spec.Audiences = ti.audiences
	}
	for i, a := range tr.Spec.Audiences {
		if a == "" {
			return nil, invalidTokenRequest(fmt.Sprintf("spec.audiences[%d]", i), "must not be empty")
		}
	}
	ctx := r.Context()
	sa, err := h.auth.accounts.Get(ctx, info.Namespace, info.Name)
	if err != nil {
		return nil, err
	}
	var pod, secret *objectClaim
	if ref := tr.Spec.BoundObjectRef; ref != nil {
		if ref.APIVersion != "" && ref.APIVersion != "v1" {
			return nil, invalidTokenRequest("spec.boundObjectRef.apiVersion", fmt.Sprintf("%q: must be v1", ref.APIVersion))
		}
		if ref.Name == "" {
			return nil, invalidTokenRequest("spec.boundObjectRef.name", "must not be empty")
		}
		var uid string
		switch ref.Kind {
		case "Pod":
			p, err := h.auth.pods.Get(ctx, info.Namespace, ref.Name)
			if err != nil {
				return nil, err
			}
			uid, pod = p.UID, &objectClaim{Name: p.Name, UID: p.UID}
		case "Secret":
			s, err := h.auth.secrets.Get(ctx, info.Namespace, ref.Name)
			if err != nil {
				return nil, err
			}
			uid, secret = s.UID, &objectClaim{Name: s.Name, UID: s.UID}
		default:
			return nil, invalidTokenRequest("spec.boundObjectRef.kind", fmt.Sprintf("%q: must be Pod or Secret", ref.Kind))
		}
		if ref.UID != "" && ref.UID != uid {
			return nil, watch.NewStatusError(http.StatusConflict, watch.StatusReasonConflict,
				fmt.Sprintf("the UID in the bound object reference (%s) does not match the UID in record (%s)", ref.UID, uid))
		}
		ref.UID, ref.APIVersion = uid, "v1"
	}
	tok, exp, err := ti.issue(sa, tr.Spec.Audiences, ttl, pod, secret)
	if err != nil {
		return nil, fmt.Errorf("signing the token: %w", err)
	}
	secs := int64(ttl / time.Second)
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	tr.Name, tr.Namespace, tr.CreationTimestamp = sa.Name, sa.Namespace, store.NewTime(ti.clock.Now())
	tr.Spec.ExpirationSeconds = &secs
	tr.Status = authentication.TokenRequestStatus{Token: tok, ExpirationTimestamp: store.NewTime(exp)}
	return &tr, nil
}

// oidcHandler serves the service account issuer discovery documents,
// /.well-known/openid-configuration and /openid/v1/jwks (to authenticated
// callers, as the rest of the API), and passes every other path to next.
type oidcHandler struct {
	ti   *tokenIssuer
	next http.Handler
}

// jwk is one JSON Web Key (RFC 7517) of an EC P-256 public key.
type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func publicJWK(kid string, pub *ecdsa.PublicKey) jwk {
	b, _ := pub.Bytes() // uncompressed point: 0x04 || X || Y, 32 bytes each on P-256
	return jwk{Use: "sig", Kty: "EC", Kid: kid, Crv: "P-256", Alg: "ES256",
		X: base64.RawURLEncoding.EncodeToString(b[1:33]), Y: base64.RawURLEncoding.EncodeToString(b[33:65])}
}

func (h oidcHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var doc any
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		w.Header().Set("Content-Type", "application/json")
		doc = map[string]any{
			"issuer":                                h.ti.issuer,
			"jwks_uri":                              h.ti.issuer + "/openid/v1/jwks",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"},
		}
	case "/openid/v1/jwks":
		w.Header().Set("Content-Type", "application/jwk-set+json")
		doc = map[string]any{"keys": []jwk{publicJWK(h.ti.keyID, &h.ti.key.PublicKey)}}
	default:
		h.next.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rest.WriteError(w, watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, r.URL.Path+" only supports GET"))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	json.NewEncoder(w).Encode(doc)
}
