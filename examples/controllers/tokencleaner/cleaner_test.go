package tokencleaner_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/tokencleaner"
	"github.com/setpoint-dev/setpoint/store"
)

func secret(t *testing.T, cs *client.Clientset, name, typ, exp string) {
	t.Helper()
	s := &api.Secret{Type: api.SecretType(typ)}
	s.Namespace, s.Name = bootstrap.Namespace, name
	s.Data = map[string][]byte{"x": []byte("y")}
	if id, ok := strings.CutPrefix(name, bootstrap.SecretPrefix); ok {
		s.Data[bootstrap.KeyTokenID], s.Data[bootstrap.KeyTokenSecret] = []byte(id), []byte("0123456789abcdef")
	}
	if exp != "" {
		s.Data[bootstrap.KeyExpiration] = []byte(exp)
	}
	if _, err := cs.Secrets().Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// TestClean: expired (and garbled) tokens go at once, a token expiring
// later goes when the clock reaches it; tokens without an expiration and
// other Secrets stay.
func TestClean(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rfc := func(d time.Duration) string { return clock.Now().Add(d).Format(time.RFC3339) }
	secret(t, cs, "bootstrap-token-old111", bootstrap.SecretType, rfc(-time.Minute))
	secret(t, cs, "bootstrap-token-garbld", bootstrap.SecretType, "next tuesday")
	secret(t, cs, "bootstrap-token-later1", bootstrap.SecretType, rfc(time.Hour))
	secret(t, cs, "bootstrap-token-never1", bootstrap.SecretType, "")
	secret(t, cs, "opaque-expired", "Opaque", rfc(-time.Hour))
	c, err := tokencleaner.New(tokencleaner.Config{Client: cs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "tokencleaner", c.Run)
	names := func() []string {
		l, err := cs.Secrets().List(ctx, bootstrap.Namespace, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
		slices.Sort(out)
		return out
	}
	want := func(w ...string) func() error {
		return func() error {
			if got := names(); !slices.Equal(got, w) {
				return fmt.Errorf("secrets %v, want %v", got, w)
			}
			return nil
		}
	}
	controllertest.Eventually(t, "expired tokens deleted", want("bootstrap-token-later1", "bootstrap-token-never1", "opaque-expired"))
	clock.Advance(time.Hour)
	controllertest.Eventually(t, "token deleted at its expiry", func() error {
		clock.Advance(time.Second) // fires the cleaner's wait once it is set
		return want("bootstrap-token-never1", "opaque-expired")()
	})
}

func TestConfigValidate(t *testing.T) {
	if _, err := tokencleaner.New(tokencleaner.Config{}); err == nil {
		t.Fatal("New without a Client: no error")
	}
}
