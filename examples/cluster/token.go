package cluster

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/store"
)

// DefaultTokenTTL is a new bootstrap token's lifetime, as kubeadm's.
const DefaultTokenTTL = 24 * time.Hour

// Bootstrap token usages, as kubeadm names them.
const (
	TokenUsageSigning        = "signing"
	TokenUsageAuthentication = "authentication"
)

// TokenOptions describe a bootstrap token to create.
type TokenOptions struct {
	// Token, if set, is the token (<id>.<secret>); default: random.
	Token string
	// TTL is the lifetime from now (default DefaultTokenTTL; negative:
	// never expires, as kubeadm's --ttl 0).
	TTL time.Duration
	// Usages are "signing" and/or "authentication" (default both).
	Usages []string
	// Groups are extra groups, each starting with
	// "system:bootstrappers:" (default none).
	Groups []string
	// Description is a human-readable note.
	Description string
}

// TokenInfo describes a bootstrap token Secret.
type TokenInfo struct {
	ID          string
	Expires     time.Time // zero: never
	Usages      []string
	Groups      []string
	Description string
}

const tokenChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomTokenPart returns n random characters of [a-z0-9]. Bytes at or
// over 252 (the largest multiple of 36) are drawn again, so every
// character is equally likely.
func randomTokenPart(n int) string {
	out := make([]byte, 0, n)
	b := make([]byte, 1)
	for len(out) < n {
		rand.Read(b)
		if b[0] < 252 {
			out = append(out, tokenChars[int(b[0])%len(tokenChars)])
		}
	}
	return string(out)
}

// CreateToken creates a bootstrap token Secret in kube-system and returns
// the token. Bad options are an error naming the field, and create
// nothing.
func CreateToken(ctx context.Context, cs *client.Clientset, opts TokenOptions, now time.Time) (string, error) {
	tok := opts.Token
	if tok == "" {
		tok = randomTokenPart(6) + "." + randomTokenPart(16)
	}
	id, secret, err := bootstrap.ParseToken(tok)
	if err != nil {
		return "", fmt.Errorf("cluster: token: %w", err)
	}
	usages := opts.Usages
	if len(usages) == 0 {
		usages = []string{TokenUsageSigning, TokenUsageAuthentication}
	}
	s := &api.Secret{Type: bootstrap.SecretType}
	s.Namespace, s.Name = bootstrap.Namespace, bootstrap.SecretPrefix+id
	s.Data = map[string][]byte{bootstrap.KeyTokenID: []byte(id), bootstrap.KeyTokenSecret: []byte(secret)}
	for _, u := range usages {
		switch u {
		case TokenUsageSigning, TokenUsageAuthentication:
			s.Data["usage-bootstrap-"+u] = []byte("true")
		default:
			return "", fmt.Errorf("cluster: token: usage %q: want %q or %q", u, TokenUsageSigning, TokenUsageAuthentication)
		}
	}
	for _, g := range opts.Groups {
		if !strings.HasPrefix(g, bootstrap.Group+":") {
			return "", fmt.Errorf("cluster: token: group %q does not start with %s:", g, bootstrap.Group)
		}
	}
	if len(opts.Groups) > 0 {
		s.Data[bootstrap.KeyExtraGroups] = []byte(strings.Join(opts.Groups, ","))
	}
	if opts.Description != "" {
		s.Data["description"] = []byte(opts.Description)
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl > 0 {
		s.Data[bootstrap.KeyExpiration] = []byte(now.Add(ttl).UTC().Format(time.RFC3339))
	}
	if _, err := cs.Secrets().Create(ctx, s); err != nil {
		return "", fmt.Errorf("cluster: token %s: %w", id, err)
	}
	return tok, nil
}

// ListTokens returns the bootstrap tokens, by ID.
func ListTokens(ctx context.Context, cs *client.Clientset) ([]TokenInfo, error) {
	l, err := cs.Secrets().List(ctx, bootstrap.Namespace, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cluster: listing tokens: %w", err)
	}
	var out []TokenInfo
	for _, s := range l.Items {
		if string(s.Type) != bootstrap.SecretType {
			continue
		}
		ti := TokenInfo{ID: string(s.Data[bootstrap.KeyTokenID]), Description: string(s.Data["description"])}
		ti.Expires, _ = bootstrap.Expiration(s.Data)
		for _, u := range []string{TokenUsageAuthentication, TokenUsageSigning} {
			if string(s.Data["usage-bootstrap-"+u]) == "true" {
				ti.Usages = append(ti.Usages, u)
			}
		}
		if g := string(s.Data[bootstrap.KeyExtraGroups]); g != "" {
			ti.Groups = strings.Split(g, ",")
		}
		out = append(out, ti)
	}
	slices.SortFunc(out, func(a, b TokenInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteToken deletes the token with the given ID (or whole token).
func DeleteToken(ctx context.Context, cs *client.Clientset, idOrToken string) error {
	id, _, _ := strings.Cut(idOrToken, ".")
	if _, _, err := bootstrap.ParseToken(id + ".0000000000000000"); err != nil {
		return fmt.Errorf("cluster: token ID %q: want 6 characters of [a-z0-9]", id)
	}
	if _, err := cs.Secrets().Delete(ctx, bootstrap.Namespace, bootstrap.SecretPrefix+id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("cluster: token %s: not found", id)
		}
		return fmt.Errorf("cluster: deleting token %s: %w", id, err)
	}
	return nil
}

// JoinCommand creates a bootstrap token (DefaultTokenTTL) on the running
// server, waits until the bootstrap signer has signed cluster-info for it
// (so a node can join at once), and returns the command that joins a node:
// setpoint agent --server URL --token TOKEN --ca-cert-hash sha256:...
func (s *Server) JoinCommand(ctx context.Context) (string, error) {
	kc, err := s.Kubeconfig()
	if err != nil {
		return "", err
	}
	cs, err := client.New(client.Config{Kubeconfig: kc})
	if err != nil {
		return "", err
	}
	tok, err := CreateToken(ctx, cs, TokenOptions{Description: "printed by setpoint server"}, time.Now())
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(tok, ".")
	for {
		cm, err := cs.ConfigMaps().Get(ctx, bootstrap.ClusterInfoNamespace, bootstrap.ClusterInfoName)
		if err == nil && cm.Data[bootstrap.JWSKeyPrefix+id] != "" {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("cluster: waiting for cluster-info to be signed for token %s: %w", id, ctx.Err())
		case <-time.After(200 * time.Millisecond): // polling the signer's work, not waiting for time
		}
	}
	blk, _ := pem.Decode(s.api.PKI().CACert)
	if blk == nil {
		return "", errors.New("cluster: the CA certificate is not PEM")
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", fmt.Errorf("cluster: the CA certificate: %w", err)
	}
	return fmt.Sprintf("setpoint agent --server %s --token %s --ca-cert-hash %s", s.URL(), tok, bootstrap.CAHash(ca)), nil
}
