package bootstrap

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"
)

// Expiration returns a bootstrap token Secret's expiration, and false if
// it has none. A value that is not RFC 3339 counts as already expired
// (the zero time with true), so a garbled Secret grants nothing.
func Expiration(data map[string][]byte) (time.Time, bool) {
	v, ok := data[KeyExpiration]
	if !ok || len(v) == 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, string(v))
	if err != nil {
		return time.Time{}, true
	}
	return t, true
}

// Expired reports whether the Secret's token has expired at now.
func Expired(data map[string][]byte, now time.Time) bool {
	exp, ok := Expiration(data)
	return ok && !now.Before(exp)
}

// TokenUser checks token against a bootstrap token Secret (its type and
// data) at now, and returns the user it authenticates as:
// system:bootstrap:<id> in the group system:bootstrappers plus the
// Secret's auth-extra-groups. The Secret must be of SecretType, name the
// same token ID, hold the same secret (compared in constant time), allow
// authentication (usage-bootstrap-authentication: "true"), and not have
// expired. Extra groups must start with "system:bootstrappers:".
func TokenUser(secretType string, data map[string][]byte, token string, now time.Time) (name string, groups []string, err error) {
	id, secret, err := ParseToken(token)
	if err != nil {
		return "", nil, err
	}
	switch {
	case secretType != SecretType:
		return "", nil, fmt.Errorf("bootstrap token %s: the Secret's type is %q, not %s", id, secretType, SecretType)
	case string(data[KeyTokenID]) != id:
		return "", nil, fmt.Errorf("bootstrap token %s: the Secret's token-id is %q", id, data[KeyTokenID])
	case subtle.ConstantTimeCompare(data[KeyTokenSecret], []byte(secret)) != 1:
		return "", nil, fmt.Errorf("bootstrap token %s: wrong secret", id)
	case string(data[KeyUsageAuthentication]) != "true":
		return "", nil, fmt.Errorf("bootstrap token %s: not for authentication", id)
	case Expired(data, now):
		return "", nil, fmt.Errorf("bootstrap token %s: expired", id)
	}
	groups = []string{Group}
	if extra := strings.TrimSpace(string(data[KeyExtraGroups])); extra != "" {
		for _, g := range strings.Split(extra, ",") {
			g = strings.TrimSpace(g)
			if !strings.HasPrefix(g, Group+":") {
				return "", nil, fmt.Errorf("bootstrap token %s: extra group %q does not start with %s:", id, g, Group)
			}
			groups = append(groups, g)
		}
	}
	return UserPrefix + id, groups, nil
}
