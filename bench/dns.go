package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/coredns/caddy"
	_ "github.com/coredns/coredns/core/dnsserver"    // the "dns" server type
	_ "github.com/coredns/coredns/plugin/bind"       // its listen address
	_ "github.com/coredns/coredns/plugin/kubernetes" // the anchor's plugin
	mdns "github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/dns"
)

// dns-qps: A queries per second for service names
// (<svc>.<ns>.svc.cluster.local) from 16 concurrent clients, each with its
// own UDP socket and one query in flight, for dnsRound per round, two
// rounds each, alternating; both servers run in this process on loopback
// and read the same in-process example apiserver (embedded etcd) holding
// dnsServices ClusterIP services. Ours is examples/dns; the anchor is
// CoreDNS v1.15.0 (github.com/coredns/coredns, the newest the module proxy
// serves) with its kubernetes plugin (ttl 30, as ours) against the same
// apiserver through a kubeconfig, so both answer from informer caches of
// the same objects. The load generator shares the machine's cores with the
// server under test, equally for both.
const (
	dnsServices = 1000
	dnsClients  = 16
	dnsRound    = 4 * time.Second
)

func init() { register("dns", benchDNS) }

func benchDNS(ctx context.Context) ([]Result, error) {
	dir, err := os.MkdirTemp("", "bench-dns-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, stopAPI, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "etcd"), Listen: "127.0.0.1:0", EtcdNoFsync: true, EtcdLogLevel: "off"})
	if err != nil {
		return nil, err
	}
	defer stopAPI()
	kc, err := srv.Kubeconfig()
	if err != nil {
		return nil, err
	}
	cs, err := client.New(client.Config{Kubeconfig: kc, QPS: -1})
	if err != nil {
		return nil, err
	}
	names := make([]string, dnsServices)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range dnsServices {
		s := &api.Service{}
		s.Namespace, s.Name = "default", fmt.Sprintf("svc-%d", i)
		ip := fmt.Sprintf("10.96.%d.%d", 1+i/250, 1+i%250)
		s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
		s.Spec.Ports = []api.ServicePort{{Name: "http", Port: 80, Protocol: api.ProtocolTCP, TargetPort: api.FromInt(8080)}}
		names[i] = s.Name + ".default.svc.cluster.local."
		g.Go(func() error { _, err := cs.Services().Create(gctx, s); return err })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("create services: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ours, err := dns.New(dns.Config{Client: cs, Listen: "127.0.0.1:0"})
	if err != nil {
		return nil, err
	}
	go cs.Informers().Run(runCtx)
	ourDone := make(chan error, 1)
	go func() { ourDone <- ours.Run(runCtx) }()
	select {
	case <-ours.Ready():
	case err := <-ourDone:
		return nil, fmt.Errorf("dns: %w", err)
	}

	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
		return nil, err
	}
	anchorAddr, stopCoreDNS, err := startCoreDNS(kcPath)
	if err != nil {
		return nil, fmt.Errorf("coredns: %w", err)
	}
	defer stopCoreDNS()

	for _, addr := range []string{ours.Addr(), anchorAddr} {
		if err := waitAnswer(ctx, addr, names[len(names)-1]); err != nil {
			return nil, err
		}
	}
	var o, a float64
	for range 2 {
		q, err := dnsLoad(ctx, ours.Addr(), names)
		if err != nil {
			return nil, fmt.Errorf("ours: %w", err)
		}
		o += q / 2
		if q, err = dnsLoad(ctx, anchorAddr, names); err != nil {
			return nil, fmt.Errorf("coredns: %w", err)
		}
		a += q / 2
	}
	return []Result{{Name: "dns-qps", Ours: o, Anchor: a, Unit: "queries/s", HigherIsBetter: true}}, nil
}

// startCoreDNS starts CoreDNS in-process with the kubernetes plugin for
// cluster.local on a free loopback port.
func startCoreDNS(kubeconfig string) (addr string, stop func(), err error) {
	free, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(free)
	corefile := fmt.Sprintf(`.:%s {
	bind 127.0.0.1
	kubernetes cluster.local in-addr.arpa ip6.arpa {
		kubeconfig %s
		ttl 30
	}
}
`, port, kubeconfig)
	inst, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), ServerTypeName: "dns"})
	if err != nil {
		return "", nil, err
	}
	return net.JoinHostPort("127.0.0.1", port), func() { inst.Stop() }, nil
}

// waitAnswer asks name until addr answers it with an address (the server
// has synced), for at most a minute.
func waitAnswer(ctx context.Context, addr, name string) error {
	deadline := time.Now().Add(time.Minute)
	m := new(mdns.Msg)
	m.SetQuestion(name, mdns.TypeA)
	c := &mdns.Client{Timeout: time.Second}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r, _, err := c.ExchangeContext(ctx, m, addr); err == nil && r.Rcode == mdns.RcodeSuccess && len(r.Answer) == 1 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s does not answer %s", addr, name)
}

// dnsLoad runs dnsClients clients against addr for dnsRound and returns
// the successful answers per second; a wrong answer fails the round.
func dnsLoad(ctx context.Context, addr string, names []string) (float64, error) {
	var ok atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, dnsRound)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for w := range dnsClients {
		g.Go(func() error {
			conn, err := mdns.DialTimeout("udp", addr, time.Second)
			if err != nil {
				return err
			}
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			m := new(mdns.Msg)
			for gctx.Err() == nil {
				m.SetQuestion(names[rng.IntN(len(names))], mdns.TypeA)
				m.Id = mdns.Id()
				conn.SetDeadline(time.Now().Add(2 * time.Second))
				if err := conn.WriteMsg(m); err != nil {
					return err
				}
				r, err := conn.ReadMsg()
				if err != nil {
					if gctx.Err() != nil {
						return nil
					}
					return err
				}
				if r.Id != m.Id || r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 {
					return fmt.Errorf("bad answer to %s: %v", m.Question[0].Name, r)
				}
				ok.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return 0, err
	}
	return float64(ok.Load()) / time.Since(start).Seconds(), nil
}
