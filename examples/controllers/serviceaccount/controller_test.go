package serviceaccount_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/serviceaccount"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []serviceaccount.Config{{}, {Client: &client.Clientset{}, Workers: -1}, {Client: &client.Clientset{}, ServiceAccounts: []string{"Not_Valid"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	for _, c := range []struct {
		ca, want string
	}{
		{"", "RootCA is required"},
		{"not pem", "not PEM"},
		{"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", `"RSA PRIVATE KEY" block`},
	} {
		cfg := serviceaccount.RootCAConfig{Client: &client.Clientset{}, RootCA: []byte(c.ca)}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RootCA %q: error %v, want one naming %q", c.ca, err, c.want)
		}
	}
}

func namespace(t *testing.T, cs *client.Clientset, name string) {
	t.Helper()
	ns := &api.Namespace{}
	ns.Name = name
	if _, err := cs.Namespaces().Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

// TestServiceAccounts: every active namespace gets its default account,
// a deleted one comes back, and a terminating namespace gets nothing.
func TestServiceAccounts(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	c, err := serviceaccount.New(serviceaccount.Config{Client: cs, ServiceAccounts: []string{"default", "builder"}})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "serviceaccount controller", c.Run)
	namespace(t, cs, "team-a")
	for _, ns := range []string{"default", "kube-system", "team-a"} {
		for _, name := range []string{"default", "builder"} {
			controllertest.Eventually(t, "service account "+ns+"/"+name, func() error {
				_, err := cs.ServiceAccounts().Get(ctx, ns, name)
				return err
			})
		}
	}
	old, err := cs.ServiceAccounts().Get(ctx, "team-a", "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ServiceAccounts().Delete(ctx, "team-a", "default"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the deleted account recreated", func() error {
		sa, err := cs.ServiceAccounts().Get(ctx, "team-a", "default")
		if err != nil {
			return err
		}
		if sa.UID == old.UID {
			return errors.New("still the old account")
		}
		return nil
	})

	// A terminating namespace (no namespace controller runs here, so it
	// stays terminating): its deleted account is not recreated.
	namespace(t, cs, "leaving")
	controllertest.Eventually(t, "leaving/default", func() error {
		_, err := cs.ServiceAccounts().Get(ctx, "leaving", "default")
		return err
	})
	if _, err := cs.Namespaces().Delete(ctx, "", "leaving"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ServiceAccounts().Delete(ctx, "leaving", "default"); err != nil {
		t.Fatal(err)
	}
	// Reconcile once the cache shows the namespace terminating.
	controllertest.Eventually(t, "a reconcile of the terminating namespace that creates nothing", func() error {
		if _, err := c.Reconcile(ctx, reconcile.Request{Name: "leaving"}); err != nil {
			return err
		}
		if _, err := cs.ServiceAccounts().Get(ctx, "leaving", "default"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("account in a terminating namespace: err %v, want NotFound", err)
		}
		ns, err := cs.Namespaces().Get(ctx, "", "leaving")
		if err != nil {
			return err
		}
		if ns.DeletionTimestamp == nil {
			return errors.New("not terminating yet")
		}
		return nil
	})
}

// TestRootCAPublisher: every namespace gets kube-root-ca.crt with the CA;
// an edit and a delete are undone; other labels stay.
func TestRootCAPublisher(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	ca := s.PKI().CACert
	p, err := serviceaccount.NewRootCAPublisher(serviceaccount.RootCAConfig{Client: cs, RootCA: ca})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "root CA publisher", p.Run)
	namespace(t, cs, "team-b")
	published := func(ns string) func() error {
		return func() error {
			cm, err := cs.ConfigMaps().Get(ctx, ns, serviceaccount.RootCAConfigMap)
			if err != nil {
				return err
			}
			if cm.Data[serviceaccount.RootCAKey] != string(ca) || len(cm.Data) != 1 {
				return fmt.Errorf("data %v, want only %s = the CA", cm.Data, serviceaccount.RootCAKey)
			}
			if cm.Annotations[serviceaccount.DescriptionAnnotation] == "" {
				return errors.New("no description annotation")
			}
			return nil
		}
	}
	for _, ns := range []string{"default", "kube-system", "team-b"} {
		controllertest.Eventually(t, "kube-root-ca.crt in "+ns, published(ns))
	}
	cm, err := cs.ConfigMaps().Get(ctx, "team-b", serviceaccount.RootCAConfigMap)
	if err != nil {
		t.Fatal(err)
	}
	cm.Labels = map[string]string{"keep": "me"}
	cm.Data = map[string]string{serviceaccount.RootCAKey: "tampered", "extra": "x"}
	if _, err := cs.ConfigMaps().Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the edit undone", published("team-b"))
	if cm, err = cs.ConfigMaps().Get(ctx, "team-b", serviceaccount.RootCAConfigMap); err != nil || cm.Labels["keep"] != "me" {
		t.Fatalf("labels after the repair: %v (err %v), want keep=me", cm.Labels, err)
	}
	if _, err := cs.ConfigMaps().Delete(ctx, "team-b", serviceaccount.RootCAConfigMap); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the deleted ConfigMap recreated", published("team-b"))
}

// TestPublishersRace: two publishers and two account controllers (as
// two managers with stale caches would) while namespaces are created
// concurrently: every namespace ends with exactly the published data and
// its account, and no reconcile loops on AlreadyExists.
func TestPublishersRace(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	ctx := context.Background()
	ca := s.PKI().CACert
	var clients []*client.Clientset
	for range 2 {
		cs := controllertest.Clientset(t, s)
		p, err := serviceaccount.NewRootCAPublisher(serviceaccount.RootCAConfig{Client: cs, RootCA: ca, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		c, err := serviceaccount.New(serviceaccount.Config{Client: cs, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		controllertest.RunInformers(t, cs)
		controllertest.Go(t, "publisher", p.Run)
		controllertest.Go(t, "accounts", c.Run)
		clients = append(clients, cs)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { namespace(t, clients[i%2], fmt.Sprintf("ns-%d", i)) })
	}
	wg.Wait()
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i)
		controllertest.Eventually(t, "ConfigMap and account in "+ns, func() error {
			cm, err := clients[0].ConfigMaps().Get(ctx, ns, serviceaccount.RootCAConfigMap)
			if err != nil {
				return err
			}
			if cm.Data[serviceaccount.RootCAKey] != string(ca) {
				return errors.New("wrong data")
			}
			_, err = clients[0].ServiceAccounts().Get(ctx, ns, "default")
			return err
		})
	}
	list, err := clients[0].ServiceAccounts().List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, sa := range list.Items {
		seen[sa.Namespace+"/"+sa.Name]++
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s listed %d times", k, c)
		}
	}
}
