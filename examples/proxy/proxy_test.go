package proxy_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/knftables"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/informer"
)

func TestValidate(t *testing.T) {
	cs := &client.Clientset{}
	for _, c := range []struct {
		cfg  proxy.Config
		want string
	}{
		{proxy.Config{NodeName: "n"}, "Client is required"},
		{proxy.Config{Client: cs}, "NodeName is required"},
		{proxy.Config{Client: cs, NodeName: "n", Mode: "ipvs"}, `Mode "ipvs" is not supported`},
		{proxy.Config{Client: cs, NodeName: "n", MasqueradeBit: 32}, "MasqueradeBit 32 is out of range"},
		{proxy.Config{Client: cs, NodeName: "n", SyncPeriod: -time.Second}, "SyncPeriod -1s is negative"},
		{proxy.Config{Client: cs, NodeName: "n", ClusterCIDR6: netip.MustParsePrefix("fd00::/48")}, "ClusterCIDR6 fd00::/48 needs IPv6 set"},
		{proxy.Config{Client: cs, NodeName: "n", IPv6: true, ClusterCIDR6: netip.MustParsePrefix("10.0.0.0/8")}, "ClusterCIDR6 10.0.0.0/8 needs IPv6 set and an IPv6 prefix"},
		{proxy.Config{Client: cs, NodeName: "n", NodePortAddresses: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}, "NodePortAddresses[0] fd00::/8 is not an IPv4 prefix"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}

func elements(t *testing.T, nft *knftables.Fake, m string) map[string]string {
	t.Helper()
	els, err := nft.ListElements(context.Background(), "map", m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range els {
		out[strings.Join(e.Key, " . ")] = strings.Join(e.Value, " ")
	}
	return out
}

// TestBatchedIncrementalSync checks that changes inside MinSyncPeriod wait
// for it (on a fake clock), that a sync sends only what changed, and that
// both histograms record it.
func TestBatchedIncrementalSync(t *testing.T) {
	ctx := context.Background()
	srv := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, srv)
	controllertest.RunInformers(t, cs)
	clock := clockwork.NewFakeClock()
	reg := prometheus.NewRegistry()
	p, err := proxy.New(proxy.Config{Client: cs, NodeName: "node1", MinSyncPeriod: 10 * time.Second, Clock: clock, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	nft := knftables.NewFake(knftables.IPv4Family, proxy.DefaultTableName)
	proxy.UseNFT(p, nft)
	controllertest.Go(t, "proxy", p.Run)
	syncs := func() int { return testutil.CollectAndCount(reg, "setpoint_proxy_sync_duration_seconds") }
	controllertest.Eventually(t, "first sync", func() error {
		_, err := nft.ListElements(ctx, "map", "service-ips")
		return err
	})
	must := mustFn(t)
	must(cs.Services().Create(ctx, service("web", "10.96.0.10", 30080)))
	must(cs.EndpointSlices().Create(ctx, slice("web", ep{"10.244.1.2", true}, ep{"10.244.2.2", true})))
	// The change waits for the period: once the proxy's cache has it and
	// its batching timer and resync ticker wait on the clock, nothing is
	// programmed until the clock moves.
	slices, _, err := informer.Shared(cs.Informers(), cs.EndpointSlices(), informer.Config[*discovery.EndpointSlice]{})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "slice cached", func() error {
		if _, ok := slices.Get("default", "web-1"); !ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if err := clock.BlockUntilContext(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// (the apiserver's own default/kubernetes Service was there at the
	// first sync; nothing else may be)
	for k, v := range elements(t, nft, "service-ips") {
		if !strings.Contains(v, "default/kubernetes/") {
			t.Fatalf("programmed before MinSyncPeriod: %s: %s", k, v)
		}
	}
	controllertest.Eventually(t, "service programmed", func() error {
		clock.Advance(10 * time.Second)
		if v := elements(t, nft, "service-ips")["10.96.0.10 . tcp . 80"]; !strings.HasPrefix(v, "goto svc-") {
			return fmt.Errorf("service-ips element: %q", v)
		}
		return nil
	})
	if v := elements(t, nft, "service-nodeports")["tcp . 30080"]; !strings.HasPrefix(v, "goto ext-") {
		t.Errorf("nodeport element: %q", v)
	}
	nft.RLock()
	tx := nft.LastTransaction.String()
	nft.RUnlock()
	if strings.Contains(tx, "nat-prerouting") && strings.Contains(tx, "flush") && strings.Contains(tx, "flush chain ip setpoint-proxy nat-prerouting") {
		t.Errorf("incremental sync rewrote an unchanged chain:\n%s", tx)
	}
	if !strings.Contains(tx, "dnat ip to numgen random mod 2 map { 0 : 10.244.1.2 . 8080 , 1 : 10.244.2.2 . 8080 }") {
		t.Errorf("sync lacks the endpoints:\n%s", tx)
	}
	// Deleting the slice turns the service into a rejecting one and
	// removes its chains.
	if _, err := cs.EndpointSlices().Delete(ctx, "default", "web-1"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "service rejects", func() error {
		clock.Advance(10 * time.Second)
		if v := elements(t, nft, "no-endpoint-services")["10.96.0.10 . tcp . 80"]; v != "goto reject-chain" {
			return fmt.Errorf("no-endpoint element: %q", v)
		}
		return nil
	})
	chains, err := nft.List(ctx, "chains")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		if (strings.HasPrefix(c, "ep-") || strings.HasPrefix(c, "svc-")) && !strings.Contains(c, "default/kubernetes/") {
			t.Errorf("stale chain %s left", c)
		}
	}
	if n := syncs(); n == 0 {
		t.Error("no sync duration metric")
	}
	if n := testutil.CollectAndCount(reg, "setpoint_proxy_network_programming_duration_seconds"); n == 0 {
		t.Error("no programming latency metric")
	}
	_ = api.ServiceTypeClusterIP
}
