package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher/remotedialer"
	"github.com/sirupsen/logrus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/examples/multicluster/hub"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
)

// mc-tunnel-get: a GET of a small object (a ConfigMap) in a child
// cluster's apiserver, made through examples/multicluster's hub and the
// agent's tunnel (the caller authenticated by bearer token against the
// parent apiserver, authorized by SubjectAccessReview, both answers cached
// as in steady state, and passed on by impersonation, which the child
// checks), sequentially over kept-alive connections; p50 and p99 in
// milliseconds.
//
// The anchor is github.com/rancher/remotedialer v0.4.0 (the tunnel
// library Clusternet and Rancher use) carrying the same request in the
// same run: its own minimal server (HTTPS, a reverse proxy whose
// connections are dialed through the remotedialer session and TLS to the
// child end to end with the child's admin certificate, no authentication
// of callers and no impersonation) and its own client in place of our
// agent. The floor, direct HTTPS to the child apiserver with the same
// client, is printed as absolute figures (mc-tunnel-get-direct-*).
func init() { register("mc-tunnel-get", benchMCTunnelGet) }

var mcTunnelGets = flag.Int("mc-tunnel-gets", 3000, "mc-tunnel-get: GETs per path (fewer for quick checks)")

func benchMCTunnelGet(ctx context.Context) ([]Result, error) {
	logrus.SetLevel(logrus.ErrorLevel) // remotedialer logs every connection at Info
	dir, err := os.MkdirTemp("", "bench-mc-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte("user-token,bench-user,uid-user,\"system:masters\"\nagent-token,bench-agent,uid-agent,\"system:masters\"\n"), 0o600); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	parent, stopParent, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "parent"), Listen: "127.0.0.1:0",
		EtcdNoFsync: true, EtcdLogLevel: "off", TokenFile: tokens})
	if err != nil {
		return nil, fmt.Errorf("parent: %w", err)
	}
	defer stopParent()
	child, stopChild, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "child"), Listen: "127.0.0.1:0",
		EtcdNoFsync: true, EtcdLogLevel: "off", DisablePriorityAndFairness: true})
	if err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	defer stopChild()
	childKC, err := child.Kubeconfig()
	if err != nil {
		return nil, err
	}
	cs, err := client.New(client.Config{Kubeconfig: childKC, QPS: -1})
	if err != nil {
		return nil, err
	}
	if _, err := cs.ConfigMaps().Create(ctx, &api.ConfigMap{ObjectMeta: store.ObjectMeta{Name: "small", Namespace: "default"},
		Data: map[string]string{"key": "value"}}); err != nil {
		return nil, err
	}
	const path = "/api/v1/namespaces/default/configmaps/small"

	// ours: hub and agent
	parentKC, err := parent.Kubeconfig()
	if err != nil {
		return nil, err
	}
	h, err := hub.New(hub.Config{ParentKubeconfig: parentKC, Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hubDone := make(chan error, 1)
	go func() { hubDone <- h.Run(runCtx) }()
	defer func() { cancel(); <-hubDone }()
	ag, err := agent.New(agent.Config{ClusterID: "bench", HubURL: h.URL(), HubCAPEM: h.CACertPEM(), HubToken: "agent-token",
		ChildKubeconfig: childKC, Logger: quiet})
	if err != nil {
		return nil, err
	}
	agentDone := make(chan error, 1)
	go func() { agentDone <- ag.Run(runCtx) }()
	defer func() { cancel(); <-agentDone }()

	// anchor: remotedialer's server and client
	conn, err := client.LoadKubeconfig(childKC, "", "")
	if err != nil {
		return nil, err
	}
	anchorURL, stopAnchor, err := startRemotedialerAnchor(runCtx, child.Addr(), conn.TLS)
	if err != nil {
		return nil, err
	}
	defer stopAnchor()

	get := func(hc *http.Client, base, token string) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		if err != nil {
			return 0, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET %s%s: %s", base, path, resp.Status)
		}
		return d, err
	}
	hubPool := x509.NewCertPool()
	hubPool.AppendCertsFromPEM(h.CACertPEM())
	ourClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: hubPool}, ForceAttemptHTTP2: true}}
	anchorClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	directClient := &http.Client{Transport: &http.Transport{TLSClientConfig: conn.TLS, ForceAttemptHTTP2: true}}
	paths := []struct {
		hc    *http.Client
		base  string
		token string
		out   *[]time.Duration
	}{
		{ourClient, h.URL() + tunnel.ProxyPath("bench"), "user-token", new([]time.Duration)},
		{anchorClient, anchorURL + "/proxy", "", new([]time.Duration)},
		{directClient, conn.Server, "", new([]time.Duration)},
	}
	// wait for the tunnel, then warm every path up
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range paths {
		for {
			_, err := get(p.hc, p.base, p.token)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("mc-tunnel-get: path never answered: %w", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for range 200 {
			if _, err := get(p.hc, p.base, p.token); err != nil {
				return nil, err
			}
		}
	}
	// interleave batches so that each path sees the same machine load
	n := *mcTunnelGets
	const batch = 100
	for done := 0; done < n; done += batch {
		for _, p := range paths {
			for range min(batch, n-done) {
				d, err := get(p.hc, p.base, p.token)
				if err != nil {
					return nil, err
				}
				*p.out = append(*p.out, d)
			}
		}
	}
	q := func(d []time.Duration, pct int) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[min(len(s)-1, len(s)*pct/100)].Microseconds()) / 1000
	}
	ours, anchor, direct := *paths[0].out, *paths[1].out, *paths[2].out
	return []Result{
		{Name: "mc-tunnel-get-p50", Ours: q(ours, 50), Anchor: q(anchor, 50), Unit: "ms"},
		{Name: "mc-tunnel-get-p99", Ours: q(ours, 99), Anchor: q(anchor, 99), Unit: "ms"},
		{Name: "mc-tunnel-get-direct-p50", Ours: q(direct, 50), Unit: "ms"},
		{Name: "mc-tunnel-get-direct-p99", Ours: q(direct, 99), Unit: "ms"},
	}, nil
}

// startRemotedialerAnchor runs remotedialer's minimal server (HTTPS: the
// tunnel endpoint, and a reverse proxy through the tunnel to the child at
// childAddr with TLS childTLS end to end) and its client, and returns the
// server's URL once the client is connected.
func startRemotedialerAnchor(ctx context.Context, childAddr string, childTLS *tls.Config) (string, func(), error) {
	const key = "bench"
	rd := remotedialer.New(func(r *http.Request) (string, bool, error) { return r.Header.Get("X-Key"), true, nil }, remotedialer.DefaultErrorWriter)
	dial := rd.Dialer(key)
	host, _, _ := net.SplitHostPort(childAddr)
	tlsCfg := childTLS.Clone()
	tlsCfg.ServerName = host
	target := &url.URL{Scheme: "https", Host: childAddr}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = pr.In.URL.Path[len("/proxy"):]
			pr.Out.URL.RawPath = ""
		},
		FlushInterval: -1,
		Transport: &http.Transport{
			DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				raw, err := dial(ctx, "tcp", childAddr)
				if err != nil {
					return nil, err
				}
				c := tls.Client(raw, tlsCfg)
				if err := c.HandshakeContext(ctx); err != nil {
					raw.Close()
					return nil, err
				}
				return c, nil
			},
			MaxIdleConnsPerHost: 64,
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/connect", rd)
	mux.Handle("/proxy/", rp)
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	wsURL := "wss" + srv.URL[len("https"):] + "/connect"
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for cctx.Err() == nil {
			_ = remotedialer.ConnectToProxy(cctx, wsURL, http.Header{"X-Key": {key}},
				func(proto, address string) bool { return address == childAddr },
				&websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, nil)
		}
	}()
	stop := func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		<-done
	}
	for start := time.Now(); !rd.HasSession(key); {
		if time.Since(start) > 30*time.Second {
			stop()
			return "", nil, errors.New("mc-tunnel-get: remotedialer client did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return srv.URL, stop, nil
}
