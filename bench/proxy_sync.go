package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/events"
	kpconfig "k8s.io/kubernetes/pkg/proxy/apis/config"
	kpnft "k8s.io/kubernetes/pkg/proxy/nftables"
	proxyutil "k8s.io/kubernetes/pkg/proxy/util"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/store"
)

// proxy-sync-5k: proxySyncServices ClusterIP Services (one TCP port each)
// with proxySyncEndpoints ready endpoints each, in one EndpointSlice per
// Service, all in an in-process example apiserver (embedded etcd); seconds
// to program them all into an empty nftables table. Each proxier programs
// a network namespace of its own that the benchmark creates (and removes).
//
// Ours is examples/proxy (nftables mode, MinSyncPeriod off) reading the
// apiserver through its informers; what is timed is its first sync, the
// one that starts once its caches are synced: building the rules from the
// caches and sending them (the "took" of its "synced" log record, which
// its sync_duration histogram also records). The anchor is kube-proxy's
// nftables proxier v1.37.2 (k8s.io/kubernetes/pkg/proxy/nftables,
// NewProxier, default feature gates: netlink listing on) fed the same
// objects (the apiserver's list, converted to k8s.io/api types) through
// OnServiceAdd and OnEndpointSliceAdd, as kube-proxy's informer handlers
// feed it; what is timed is OnEndpointSlicesSynced, the call that runs its
// first (full) syncProxyRules once both kinds are synced. Its change
// trackers' work in the Add calls is left out of its time, while ours
// includes reading the caches: the comparison leans towards the anchor.
//
// proxy-sync-5k-one: seconds for one endpoint change (one endpoint of one
// Service replaced by a new address) to reach the rules, after the full
// sync settled. Ours: the update goes to the apiserver; timed from the
// moment the proxy's informer handler sees it to the end of the sync that
// programs it (its network_programming_duration histogram). Anchor: timed
// from OnEndpointSliceUpdate to the end of the sync it asks for (run at
// once through OnServiceSynced, which syncs unconditionally, as
// kube-proxy's sync loop would with minSyncPeriod 0).
//
// proxy-sync-5k-floor: seconds for `nft -f` of our final ruleset (dumped
// with `nft list table ip setpoint-proxy`) into a fresh namespace: the
// cost of the kernel and nft alone. Both proxiers' rulesets are checked
// to hold the changed endpoint and the last Service's ClusterIP.
// (nft parses a listed table much more slowly than the commands knftables
// sends, so this "floor" may lie above ours. kube-proxy logs one "Failed
// to list existing sets" error at its first sync: its netlink listing of
// a table that does not exist yet; it is harmless.)
const (
	proxySyncServices  = 5000
	proxySyncEndpoints = 10
	proxyNode          = "bench-node"
	proxyPodCIDR       = "10.128.0.0/9"
)

func init() { register("proxy-sync", benchProxySync) }

func benchProxySync(ctx context.Context) ([]Result, error) {
	_, cs, cleanup, err := freshAPIServer(ctx, "bench-proxy-", 0)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := createProxyObjects(ctx, cs, proxySyncServices, proxySyncEndpoints); err != nil {
		return nil, err
	}
	svcs, err := cs.Services().List(ctx, "", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	sls, err := cs.EndpointSlices().List(ctx, "", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	// The change: the first endpoint of the last Service's slice moves.
	var changed *discovery.EndpointSlice
	newIP := "10.255.0.1"
	for _, s := range sls.Items {
		if s.Name == fmt.Sprintf("svc-%04d-1", proxySyncServices-1) {
			changed = s.DeepCopy()
		}
	}
	if changed == nil {
		return nil, errors.New("the last service's slice is missing")
	}
	changed.Endpoints[0].Addresses = []string{newIP}
	lastIP := ""
	for _, s := range svcs.Items {
		if s.Name == fmt.Sprintf("svc-%04d", proxySyncServices-1) {
			lastIP = s.Spec.ClusterIP
		}
	}
	check := func(who string, ruleset []byte) error {
		for _, want := range []string{newIP, lastIP} {
			if !bytes.Contains(ruleset, []byte(want+" ")) && !bytes.Contains(ruleset, []byte(want+":")) {
				return fmt.Errorf("%s: the ruleset lacks %s", who, want)
			}
		}
		return nil
	}

	oursFull, oursOne, dump, err := proxySyncOurs(ctx, cs, changed)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	if err := check("ours", dump); err != nil {
		return nil, err
	}
	anchorFull, anchorOne, anchorDump, err := proxySyncAnchor(ctx, svcs.Items, sls.Items, changed)
	if err != nil {
		return nil, fmt.Errorf("kube-proxy: %w", err)
	}
	if err := check("kube-proxy", anchorDump); err != nil {
		return nil, err
	}
	floor, err := nftLoadTime(dump)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	return []Result{
		{Name: "proxy-sync-5k", Ours: oursFull.Seconds(), Anchor: anchorFull.Seconds(), Unit: "s"},
		{Name: "proxy-sync-5k-one", Ours: oursOne.Seconds(), Anchor: anchorOne.Seconds(), Unit: "s"},
		{Name: "proxy-sync-5k-floor", Ours: floor.Seconds(), Unit: "s"},
	}, nil
}

// createProxyObjects creates n Services (ClusterIPs allocated by the
// apiserver) and one EndpointSlice of eps ready endpoints (pod IPs in
// proxyPodCIDR, on other nodes) for each.
func createProxyObjects(ctx context.Context, cs *client.Clientset, n, eps int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	ready, name, proto, port := true, "http", api.ProtocolTCP, int32(8080)
	for i := range n {
		svc := &api.Service{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("svc-%04d", i)},
			Spec: api.ServiceSpec{Ports: []api.ServicePort{{Name: name, Port: 80, Protocol: proto, TargetPort: api.FromInt(port)}}}}
		sl := &discovery.EndpointSlice{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: svc.Name + "-1",
			Labels: map[string]string{discovery.LabelServiceName: svc.Name}},
			AddressType: discovery.AddressTypeIPv4,
			Ports:       []discovery.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}}}
		for j := range eps {
			k := i*eps + j
			node := fmt.Sprintf("node-%d", j%3)
			sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{Addresses: []string{fmt.Sprintf("10.128.%d.%d", k/250, 1+k%250)},
				Conditions: discovery.EndpointConditions{Ready: &ready}, NodeName: &node})
		}
		g.Go(func() error {
			if _, err := cs.Services().Create(gctx, svc); err != nil {
				return err
			}
			_, err := cs.EndpointSlices().Create(gctx, sl)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("create services and slices: %w", err)
	}
	return nil
}

// syncLog passes the "took" of the proxy's "synced" records to a channel.
type syncLog struct{ took chan time.Duration }

func (h syncLog) Enabled(context.Context, slog.Level) bool { return true }
func (h syncLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h syncLog) WithGroup(string) slog.Handler            { return h }
func (h syncLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "synced" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "took" {
			select {
			case h.took <- a.Value.Duration():
			default:
			}
		}
		return true
	})
	return nil
}

// histogram returns the count and sum of a histogram in reg.
func histogram(reg *prometheus.Registry, name string) (uint64, float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, 0, err
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			h := mf.Metric[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum(), nil
		}
	}
	return 0, 0, nil
}

// proxySyncOurs runs examples/proxy in a namespace of its own; see
// proxy-sync-5k. It returns the full and one-change times and the final
// ruleset.
func proxySyncOurs(ctx context.Context, cs *client.Clientset, changed *discovery.EndpointSlice) (full, one time.Duration, dump []byte, err error) {
	ns, err := newBenchNS("ours")
	if err != nil {
		return 0, 0, nil, err
	}
	defer func() { err = errors.Join(err, ns.close()) }()
	reg := prometheus.NewRegistry()
	log := syncLog{took: make(chan time.Duration, 100)}
	// (SyncPeriod an hour: no periodic resync during the measurement)
	p, err := startProxy(ctx, proxy.Config{Client: cs, NodeName: proxyNode, MinSyncPeriod: -1, SyncPeriod: time.Hour, NetNS: ns.path(),
		ClusterCIDR: netip.MustParsePrefix(proxyPodCIDR), Registerer: reg, Logger: slog.New(log)})
	if err != nil {
		return 0, 0, nil, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()
	wait := func(d time.Duration) (time.Duration, bool, error) {
		select {
		case t := <-log.took:
			return t, true, nil
		case <-time.After(d):
			return 0, false, nil
		case <-p.done:
			return 0, false, fmt.Errorf("proxy stopped: %v", p.err)
		}
	}
	full, ok, err := wait(10 * time.Minute)
	if err != nil || !ok {
		return 0, 0, nil, errors.Join(err, errors.New("no first sync in 10 minutes"))
	}
	// Settle: the informers' initial adds ask for more syncs (no-ops).
	for ok {
		if _, ok, err = wait(time.Second); err != nil {
			return 0, 0, nil, err
		}
	}
	n0, s0, err := histogram(reg, "setpoint_proxy_network_programming_duration_seconds")
	if err != nil {
		return 0, 0, nil, err
	}
	if _, err := cs.EndpointSlices().Update(ctx, changed); err != nil {
		return 0, 0, nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n, s, err := histogram(reg, "setpoint_proxy_network_programming_duration_seconds")
		if err != nil {
			return 0, 0, nil, err
		}
		if n > n0 {
			one = time.Duration((s - s0) / float64(n-n0) * float64(time.Second))
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, nil, errors.New("the endpoint change was not programmed in a minute")
		}
		time.Sleep(time.Millisecond)
	}
	dump, err = ns.exec("nft", "list", "table", "ip", proxy.DefaultTableName)
	return full, one, dump, err
}

// proxySyncAnchor runs kube-proxy's nftables proxier in a namespace of its
// own; see proxy-sync-5k.
func proxySyncAnchor(ctx context.Context, svcs []*api.Service, sls []*discovery.EndpointSlice, changed *discovery.EndpointSlice) (full, one time.Duration, dump []byte, err error) {
	ksvcs := make([]*v1.Service, len(svcs))
	for i, s := range svcs {
		k, err := convert[v1.Service](s)
		if err != nil {
			return 0, 0, nil, err
		}
		ksvcs[i] = &k
	}
	ksls := make([]*discoveryv1.EndpointSlice, len(sls))
	var oldSlice *discoveryv1.EndpointSlice
	for i, s := range sls {
		k, err := convert[discoveryv1.EndpointSlice](s)
		if err != nil {
			return 0, 0, nil, err
		}
		ksls[i] = &k
		if s.Namespace == changed.Namespace && s.Name == changed.Name {
			oldSlice = ksls[i]
		}
	}
	newSlice, err := convert[discoveryv1.EndpointSlice](changed)
	if err != nil {
		return 0, 0, nil, err
	}
	ns, err := newBenchNS("kube")
	if err != nil {
		return 0, 0, nil, err
	}
	defer func() { err = errors.Join(err, ns.close()) }()
	err = inNetNS(ns.path(), func() error {
		bit := int32(14)
		cfg := &kpconfig.KubeProxyConfiguration{}
		cfg.NFTables.MasqueradeBit = &bit
		cfg.SyncPeriod.Duration = 30 * time.Second
		p, err := kpnft.NewProxier(ctx, cfg, v1.IPv4Protocol, proxyutil.NewDetectLocalByCIDR(proxyPodCIDR),
			proxyNode, net.ParseIP("192.168.77.10"), &events.FakeRecorder{}, nil, false)
		if err != nil {
			return err
		}
		for _, s := range ksvcs {
			p.OnServiceAdd(s)
		}
		for _, s := range ksls {
			p.OnEndpointSliceAdd(s)
		}
		p.OnServiceSynced() // (no sync yet: the slices are not synced)
		start := time.Now()
		p.OnEndpointSlicesSynced()
		full = time.Since(start)
		start = time.Now()
		p.OnEndpointSliceUpdate(oldSlice, &newSlice)
		p.OnServiceSynced()
		one = time.Since(start)
		return nil
	})
	if err != nil {
		return 0, 0, nil, err
	}
	dump, err = ns.exec("nft", "list", "table", "ip", "kube-proxy")
	return full, one, dump, err
}

// nftLoadTime loads ruleset with `nft -f` into a fresh namespace and
// returns how long nft took.
func nftLoadTime(ruleset []byte) (d time.Duration, err error) {
	dir, err := os.MkdirTemp("", "bench-nft-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "ruleset.nft")
	if err := os.WriteFile(file, ruleset, 0o600); err != nil {
		return 0, err
	}
	ns, err := newBenchNS("floor")
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, ns.close()) }()
	err = inNetNS(ns.path(), func() error {
		start := time.Now()
		out, err := exec.Command("nft", "-f", file).CombinedOutput()
		d = time.Since(start)
		if err != nil {
			return fmt.Errorf("nft -f: %w: %s", err, out)
		}
		return nil
	})
	return d, err
}

// runningProxy is an examples/proxy run by a benchmark.
type runningProxy struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err
	err    error
}

// startProxy runs the shared informers of cfg.Client and a proxy of cfg
// until stop.
func startProxy(ctx context.Context, cfg proxy.Config) (*runningProxy, error) {
	p, err := proxy.New(cfg)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	r := &runningProxy{cancel: cancel, done: make(chan struct{})}
	go cfg.Client.Informers().Run(runCtx)
	go func() {
		defer close(r.done)
		r.err = p.Run(runCtx)
	}()
	return r, nil
}

// stop ends the proxy and its informers and returns Run's error.
func (r *runningProxy) stop() error {
	r.cancel()
	<-r.done
	return r.err
}
