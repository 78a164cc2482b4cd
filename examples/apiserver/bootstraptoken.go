package apiserver

import (
	"net/http"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/store"
)

// bootstrapTokenAuthenticator authenticates bootstrap tokens
// ("<id>.<secret>") against their Secrets,
// kube-system/bootstrap-token-<id>, read from storage: see
// bootstrap.TokenUser for the rules. A Secret being deleted grants
// nothing.
type bootstrapTokenAuthenticator struct {
	secrets *store.Store[*api.Secret]
	clock   clockwork.Clock
}

// Authenticate returns the token's user, or nil.
func (a *bootstrapTokenAuthenticator) Authenticate(r *http.Request) *User {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	id, _, err := bootstrap.ParseToken(tok)
	if err != nil {
		return nil
	}
	s, err := a.secrets.Get(r.Context(), bootstrap.Namespace, bootstrap.SecretPrefix+id)
	if err != nil || s.DeletionTimestamp != nil {
		return nil
	}
	name, groups, err := bootstrap.TokenUser(string(s.Type), s.Data, tok, a.clock.Now())
	if err != nil {
		return nil
	}
	return &User{Name: name, Groups: append(groups, "system:authenticated")}
}
