package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of Config.
const (
	DefaultHeartbeatPeriod = 10 * time.Second
	DefaultReconnectMin    = time.Second
	DefaultReconnectMax    = 30 * time.Second
)

// Config configures an Agent.
type Config struct {
	// ClusterID is the child cluster's ID at the hub; required, a DNS
	// label.
	ClusterID string
	// HubURL is the hub's base URL (https://host:port); required.
	HubURL string
	// HubCAPEM is the CA that signed the hub's serving certificate;
	// required.
	HubCAPEM []byte
	// HubToken is the agent's credential in the parent (the one
	// registration handed back); required. A service account token (a
	// JWT with exp and iat) is renewed through the hub once 80% of its
	// lifetime has passed (as client-go refreshes projected tokens);
	// Token returns the current one.
	HubToken string
	// OnTokenRenewed, if set, is called with each renewed token (the
	// agent program writes it over its token file, so that a restart
	// uses it).
	OnTokenRenewed func(token string)
	// ChildKubeconfig is the agent's credential in its child: it must
	// carry a client certificate (the tunnel authenticates the hub's
	// streams to the child with it) of a user allowed to impersonate;
	// required.
	ChildKubeconfig []byte
	// ParentKubeconfig is the agent's credentials in the parent apiserver
	// (ParentKubeconfigFor makes one from the registration's token);
	// optional: when set, the agent pulls the Descriptions of its
	// cluster's namespace and applies them in the child (it needs get,
	// list, watch and update on descriptions and descriptions/status
	// there, which registration grants).
	ParentKubeconfig []byte
	// HeartbeatPeriod is how often the agent reports, and how often it
	// refreshes the status of the objects it applied (default
	// DefaultHeartbeatPeriod).
	HeartbeatPeriod time.Duration
	// ReconnectMin and ReconnectMax bound the doubling wait before the
	// agent reopens a dropped tunnel (defaults DefaultReconnectMin,
	// DefaultReconnectMax).
	ReconnectMin, ReconnectMax time.Duration
	// Platform is reported in heartbeats (default GOOS/GOARCH).
	Platform string
	// Clock times heartbeats and reconnects (default the real clock).
	Clock clockwork.Clock
	// Logger logs (default slog.Default()).
	Logger *slog.Logger
}

// Validate reports what is wrong with c.
func (c *Config) Validate() error {
	var errs []error
	if err := (&multicluster.ManagedCluster{Spec: multicluster.ManagedClusterSpec{ClusterID: c.ClusterID}}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ClusterID: %q is not a DNS label", c.ClusterID))
	}
	if u, err := url.Parse(c.HubURL); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("HubURL: %q is not an https:// URL", c.HubURL))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(c.HubCAPEM) {
		errs = append(errs, errors.New("HubCAPEM: no PEM certificate in it"))
	}
	if c.HubToken == "" {
		errs = append(errs, errors.New("HubToken: required"))
	}
	if len(c.ChildKubeconfig) == 0 {
		errs = append(errs, errors.New("ChildKubeconfig: required"))
	} else if conn, err := client.LoadKubeconfig(c.ChildKubeconfig, "", ""); err != nil {
		errs = append(errs, fmt.Errorf("ChildKubeconfig: %w", err))
	} else if len(conn.TLS.Certificates) == 0 {
		errs = append(errs, errors.New("ChildKubeconfig: must carry a client certificate (a token cannot authenticate tunnel streams)"))
	}
	if len(c.ParentKubeconfig) > 0 {
		if _, err := client.LoadKubeconfig(c.ParentKubeconfig, "", ""); err != nil {
			errs = append(errs, fmt.Errorf("ParentKubeconfig: %w", err))
		}
	}
	if c.HeartbeatPeriod < 0 {
		errs = append(errs, fmt.Errorf("HeartbeatPeriod: %s is negative", c.HeartbeatPeriod))
	}
	if c.ReconnectMin < 0 || c.ReconnectMax < 0 || (c.ReconnectMax > 0 && c.ReconnectMin > c.ReconnectMax) {
		errs = append(errs, fmt.Errorf("ReconnectMin, ReconnectMax: %s, %s is not a range", c.ReconnectMin, c.ReconnectMax))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("agent config: %w", err)
	}
	return nil
}

// Agent runs in a child cluster: it keeps the tunnel to the hub open and
// reports the child's health.
type Agent struct {
	cfg       Config
	child     *client.Clientset
	childAddr string
	childTLS  *tls.Config
	hubTLS    *tls.Config
	hubHTTP   *http.Client
	log       *slog.Logger
	sync      *syncer      // nil without ParentKubeconfig
	token     atomic.Value // string: the current HubToken
}

// New checks cfg; it reaches no one.
func New(cfg Config) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.HeartbeatPeriod == 0 {
		cfg.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if cfg.ReconnectMin == 0 {
		cfg.ReconnectMin = DefaultReconnectMin
	}
	if cfg.ReconnectMax == 0 {
		cfg.ReconnectMax = max(DefaultReconnectMax, cfg.ReconnectMin)
	}
	if cfg.Platform == "" {
		cfg.Platform = runtime.GOOS + "/" + runtime.GOARCH
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	conn, err := client.LoadKubeconfig(cfg.ChildKubeconfig, "", "")
	if err != nil {
		return nil, fmt.Errorf("agent: child kubeconfig: %w", err)
	}
	u, err := url.Parse(conn.Server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("agent: child kubeconfig: server %q is not a URL", conn.Server)
	}
	child, err := client.New(client.Config{Kubeconfig: cfg.ChildKubeconfig, QPS: -1})
	if err != nil {
		return nil, fmt.Errorf("agent: child kubeconfig: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cfg.HubCAPEM)
	hubTLS := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	a := &Agent{cfg: cfg, child: child, childAddr: u.Host, childTLS: conn.TLS, hubTLS: hubTLS,
		hubHTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: hubTLS}, Timeout: 30 * time.Second}, log: cfg.Logger}
	a.token.Store(cfg.HubToken)
	if len(cfg.ParentKubeconfig) > 0 {
		pc := client.Config{Kubeconfig: cfg.ParentKubeconfig, QPS: -1}
		if pconn, err := client.LoadKubeconfig(cfg.ParentKubeconfig, "", ""); err == nil && pconn.BearerToken == cfg.HubToken {
			pc.Token = a.Token // the same credential: renewed with it
		}
		parent, err := client.New(pc)
		if err != nil {
			return nil, fmt.Errorf("agent: parent kubeconfig: %w", err)
		}
		if a.sync, err = newSyncer(a, parent); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Run keeps the tunnel open, sends heartbeats and (with
// ParentKubeconfig) applies the cluster's Descriptions until ctx ends; it
// returns nil then. Failures to reach the hub or the child are logged and
// retried, never fatal.
func (a *Agent) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { a.keepTunnel(ctx); return nil })
	g.Go(func() error { a.heartbeats(ctx); return nil })
	g.Go(func() error { a.renewTokens(ctx); return nil })
	if a.sync != nil {
		g.Go(func() error { return a.sync.run(ctx) })
	}
	return g.Wait()
}

// keepTunnel reopens the tunnel whenever it drops, after a wait that
// doubles from ReconnectMin to ReconnectMax and starts over once a tunnel
// was up.
func (a *Agent) keepTunnel(ctx context.Context) {
	dial := tunnel.Dialer(a.childAddr, a.childTLS)
	wait := a.cfg.ReconnectMin
	for ctx.Err() == nil {
		connected := false
		hdr := http.Header{"Authorization": {"Bearer " + a.Token()}}
		err := tunnel.Connect(ctx, a.cfg.HubURL, a.cfg.ClusterID, hdr, a.hubTLS, dial, func() {
			connected = true
			a.log.Info("tunnel up", "cluster", a.cfg.ClusterID, "hub", a.cfg.HubURL)
		})
		if ctx.Err() != nil {
			return
		}
		if connected {
			wait = a.cfg.ReconnectMin
		}
		a.log.Warn("tunnel down; reconnecting", "cluster", a.cfg.ClusterID, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-a.cfg.Clock.After(wait):
		}
		wait = min(2*wait, a.cfg.ReconnectMax)
	}
}

// heartbeats reports at once and then every HeartbeatPeriod.
func (a *Agent) heartbeats(ctx context.Context) {
	t := a.cfg.Clock.NewTicker(a.cfg.HeartbeatPeriod)
	defer t.Stop()
	for {
		if err := a.Heartbeat(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("heartbeat failed", "cluster", a.cfg.ClusterID, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
	}
}

// Heartbeat collects the child's status and posts it to the hub once.
func (a *Agent) Heartbeat(ctx context.Context) error {
	st := a.Status(ctx)
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", a.cfg.HubURL+tunnel.HeartbeatPath(a.cfg.ClusterID), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.Token())
	resp, err := a.hubHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("heartbeat: hub answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Token returns the agent's current token in the parent: HubToken, or
// the latest renewal of it.
func (a *Agent) Token() string { return a.token.Load().(string) }

// renewTokens renews the token once 80% of its lifetime has passed, and
// again for each new one (no sooner than a tenth of its lifetime after
// the last renewal, whatever the clocks say), until ctx ends; a failed
// renewal is retried after a tenth of the time left (at least a second,
// at most a minute; each minute once expired). A token that is not a JWT
// with exp and iat (a static token) is kept.
func (a *Agent) renewTokens(ctx context.Context) {
	renewed := false
	for {
		iat, exp, ok := tokenTimes(a.Token())
		if !ok {
			return
		}
		wait := iat.Add(exp.Sub(iat) * 4 / 5).Sub(a.cfg.Clock.Now())
		if renewed {
			// a clock far ahead of the parent's must not renew in a loop
			wait = max(wait, exp.Sub(iat)/10)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-a.cfg.Clock.After(wait):
			}
		}
		_, err := a.RenewToken(ctx)
		renewed = err == nil
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			retry := time.Minute // once expired, only a slow retry
			if left := exp.Sub(a.cfg.Clock.Now()); left > 0 {
				retry = min(max(left/10, time.Second), time.Minute)
			}
			a.log.Warn("renewing the agent's token failed", "cluster", a.cfg.ClusterID, "expires", exp, "retry in", retry, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-a.cfg.Clock.After(retry):
			}
		}
	}
}

// RenewToken asks the hub for a new token now, with the current one;
// on success the agent uses it from then on (the tunnel from its next
// connection), calls OnTokenRenewed, and returns it.
func (a *Agent) RenewToken(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", a.cfg.HubURL+tunnel.TokenPath(a.cfg.ClusterID), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token())
	resp, err := a.hubHTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("token renewal: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("token renewal: hub answered %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var tr authentication.TokenRequest
	if err := json.Unmarshal(body, &tr); err != nil || tr.Status.Token == "" {
		return "", fmt.Errorf("token renewal: the hub's answer holds no token (%v)", err)
	}
	a.token.Store(tr.Status.Token)
	a.log.Info("agent token renewed", "cluster", a.cfg.ClusterID, "expires", tr.Status.ExpirationTimestamp.Time)
	if a.cfg.OnTokenRenewed != nil {
		a.cfg.OnTokenRenewed(tr.Status.Token)
	}
	return tr.Status.Token, nil
}

// tokenTimes reads the iat and exp claims of a JWT without checking its
// signature (the parent checks it; the agent only schedules renewal).
func tokenTimes(token string) (iat, exp time.Time, ok bool) {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil ||
		claims.IssuedAt == nil || claims.ExpiresAt == nil || !claims.ExpiresAt.After(claims.IssuedAt.Time) {
		return iat, exp, false
	}
	return claims.IssuedAt.Time, claims.ExpiresAt.Time, true
}

// Status reads the child's health: apiserver readiness and version, its
// nodes, their allocatable resources, and what bound pods leave of them.
// What it cannot read it reports as not ready.
func (a *Agent) Status(ctx context.Context) multicluster.ManagedClusterStatus {
	st := multicluster.ManagedClusterStatus{
		Platform:               a.cfg.Platform,
		HeartbeatPeriodSeconds: int64(a.cfg.HeartbeatPeriod / time.Second),
	}
	st.Readyz = a.get(ctx, "/readyz", nil) == nil
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if a.get(ctx, "/version", &v) == nil {
		st.KubernetesVersion = v.GitVersion
	}
	nodes, err := a.child.Nodes().List(ctx, "", store.ListOptions{})
	if err != nil {
		a.log.Warn("listing child nodes", "cluster", a.cfg.ClusterID, "err", err)
		st.Readyz = false
		return st
	}
	ready := map[string]bool{}
	alloc := api.ResourceList{}
	for _, n := range nodes.Items {
		st.NodeCount++
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue && !n.Spec.Unschedulable {
				ready[n.Name] = true
				st.ReadyNodeCount++
				alloc = alloc.Add(n.Status.Allocatable)
			}
		}
	}
	st.Allocatable = alloc
	pods, err := a.child.Pods().List(ctx, "", store.ListOptions{})
	if err != nil {
		a.log.Warn("listing child pods", "cluster", a.cfg.ClusterID, "err", err)
		return st
	}
	used := api.ResourceList{}
	for _, p := range pods.Items {
		if !ready[p.Spec.NodeName] || p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
			continue
		}
		for _, c := range p.Spec.Containers {
			used = used.Add(c.Resources.Requests)
		}
	}
	st.Available = api.ResourceList{}
	for name, q := range alloc {
		left := q.Sub(used[name])
		if left.Sign() < 0 {
			left = api.NewQuantity(0, q.Format())
		}
		st.Available[name] = left
	}
	return st
}

// get reads path from the child apiserver into out (if not nil).
func (a *Agent) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", a.child.Server()+path, nil)
	if err != nil {
		return err
	}
	resp, err := a.child.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// ParentKubeconfigFor returns a kubeconfig for the parent apiserver at
// server (https://host:port), trusting caPEM, with the bearer token an
// approved registration handed back (Status.Token).
func ParentKubeconfigFor(server string, caPEM []byte, token string) []byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return []byte(`{"apiVersion":"v1","kind":"Config","current-context":"parent",` +
		`"clusters":[{"name":"parent","cluster":{"server":` + q(server) + `,"certificate-authority-data":` + q(base64.StdEncoding.EncodeToString(caPEM)) + `}}],` +
		`"users":[{"name":"agent","user":{"token":` + q(token) + `}}],` +
		`"contexts":[{"name":"parent","context":{"cluster":"parent","user":"agent"}}]}`)
}
