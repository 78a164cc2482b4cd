package bootstrapsigner_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/bootstrapsigner"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
)

// tokenSecret creates a bootstrap token Secret for id.secret.
func tokenSecret(t *testing.T, cs *client.Clientset, id, secret string, signing bool, exp time.Time) {
	t.Helper()
	s := &api.Secret{Type: bootstrap.SecretType}
	s.Namespace, s.Name = bootstrap.Namespace, bootstrap.SecretPrefix+id
	s.Data = map[string][]byte{bootstrap.KeyTokenID: []byte(id), bootstrap.KeyTokenSecret: []byte(secret),
		bootstrap.KeyUsageAuthentication: []byte("true")}
	if signing {
		s.Data[bootstrap.KeyUsageSigning] = []byte("true")
	}
	if !exp.IsZero() {
		s.Data[bootstrap.KeyExpiration] = []byte(exp.UTC().Format(time.RFC3339))
	}
	if _, err := cs.Secrets().Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// TestSign: cluster-info (created by the apiserver) gets a verifiable
// signature for each signing token, none for a token not for signing, and
// loses a token's signature when the token expires.
func TestSign(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tokenSecret(t, cs, "abcdef", "0123456789abcdef", true, clock.Now().Add(time.Hour))
	tokenSecret(t, cs, "forevr", "0123456789abcdef", true, time.Time{})
	tokenSecret(t, cs, "nosign", "0123456789abcdef", false, time.Time{})
	sg, err := bootstrapsigner.New(bootstrapsigner.Config{Client: cs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "bootstrapsigner", sg.Run)
	data := func() map[string]string {
		cm, err := cs.ConfigMaps().Get(ctx, bootstrap.ClusterInfoNamespace, bootstrap.ClusterInfoName)
		if err != nil {
			t.Fatal(err)
		}
		return cm.Data
	}
	controllertest.Eventually(t, "signed", func() error {
		d := data()
		if len(d) != 3 {
			return fmt.Errorf("cluster-info keys %d, want kubeconfig and two signatures", len(d))
		}
		return nil
	})
	d := data()
	if _, err := bootstrap.VerifyClusterInfo(d, "abcdef.0123456789abcdef", nil); err != nil {
		t.Fatalf("verifying with a signing token: %v", err)
	}
	if _, err := bootstrap.VerifyClusterInfo(d, "abcdef.0123456789abcdex", nil); !errors.Is(err, bootstrap.ErrUnverified) {
		t.Fatalf("verifying with a wrong secret: %v, want ErrUnverified", err)
	}
	if _, err := bootstrap.VerifyClusterInfo(d, "nosign.0123456789abcdef", nil); !errors.Is(err, bootstrap.ErrUnverified) {
		t.Fatalf("a token not for signing verified: %v", err)
	}
	// The first token expires: its signature goes, the other stays.
	clock.Advance(time.Hour)
	controllertest.Eventually(t, "expired signature dropped", func() error {
		clock.Advance(time.Second) // fires the signer's wait once it is set
		d := data()
		if _, ok := d[bootstrap.JWSKeyPrefix+"abcdef"]; ok {
			return errors.New("the expired token's signature is still there")
		}
		if _, ok := d[bootstrap.JWSKeyPrefix+"forevr"]; !ok {
			return errors.New("the valid token's signature is gone")
		}
		return nil
	})
}

func TestSignatures(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(name, id string, exp time.Time) *api.Secret {
		s := &api.Secret{Type: bootstrap.SecretType}
		s.Namespace, s.Name = bootstrap.Namespace, name
		s.Data = map[string][]byte{bootstrap.KeyTokenID: []byte(id), bootstrap.KeyTokenSecret: []byte("0123456789abcdef"),
			bootstrap.KeyUsageSigning: []byte("true"), bootstrap.KeyExpiration: []byte(exp.Format(time.RFC3339))}
		return s
	}
	sigs, next, err := bootstrapsigner.Signatures("kc", []*api.Secret{
		sec("bootstrap-token-aaaaaa", "aaaaaa", now.Add(2*time.Hour)),
		sec("bootstrap-token-bbbbbb", "bbbbbb", now.Add(time.Hour)),
		sec("bootstrap-token-cccccc", "cccccc", now),                // expired
		sec("bootstrap-token-dddddd", "xxxxxx", now.Add(time.Hour)), // name and id differ
		sec("bootstrap-token-BAD", "BAD", now.Add(time.Hour)),       // malformed id
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || sigs[bootstrap.JWSKeyPrefix+"aaaaaa"] == "" || sigs[bootstrap.JWSKeyPrefix+"bbbbbb"] == "" {
		t.Errorf("signatures %v, want aaaaaa and bbbbbb only", sigs)
	}
	if !next.Equal(now.Add(time.Hour)) {
		t.Errorf("next expiry %v, want %v", next, now.Add(time.Hour))
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := bootstrapsigner.New(bootstrapsigner.Config{}); err == nil {
		t.Fatal("New without a Client: no error")
	}
}
