package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/examples/controllers/servicelb"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
)

// Identities of the control-plane components, as in Kubernetes.
const (
	ControllerManagerUser = "system:kube-controller-manager"
	SchedulerUser         = "system:kube-scheduler"
	// ProxyUser is every node proxy's identity, bound to the
	// system:node-proxier role.
	ProxyUser = "system:kube-proxy"
	// NodeUserPrefix + the node name is a kubelet's user; NodesGroup its
	// group.
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// ErrAlreadyRunning is returned by a second call of Server.Run.
var ErrAlreadyRunning = errors.New("cluster: server already running")

// ErrUnknownNode is returned by StopNode for a node the server does not
// run.
var ErrUnknownNode = errors.New("cluster: unknown node")

// ComponentFunc is a further component run by the server once the
// apiserver serves, in the same errgroup as the others: it gets its
// credentials from s.IssueKubeconfig and returns when ctx ends (nil) or on
// a fatal error, which stops the server.
type ComponentFunc func(ctx context.Context, s *Server) error

// Server runs a control plane in one process: etcd (embedded unless
// Config.EtcdServers), the apiserver, the controller-manager and the
// scheduler, plus the nodes of Config.Nodes. The components talk only
// through the apiserver, each with its own client certificate.
type Server struct {
	cfg   Config
	log   *slog.Logger
	api   *apiserver.Server
	nodes []*Node
	extra []ComponentFunc
	ready chan struct{}
	dnsIP netip.Addr

	apiCfg apiserver.Config

	mu     sync.Mutex
	ran    bool
	apiRan bool
	slots  map[string]*slot // by component name
}

// New checks cfg, loads or makes the PKI, binds the apiserver's address and
// prepares the nodes. extra components are run alongside the others.
func New(cfg Config, extra ...ComponentFunc) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("cluster: DataDir: %w", err)
	}
	cfg.DataDir = dir
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	dnsIP, _ := DNSServiceIP(cfg.ServiceCIDR) // checked by Validate
	// The nodes are checked before the apiserver binds its address, so
	// that a bad node leaves nothing bound; their kubeconfigs come after.
	var nodes []*Node
	for _, nc := range cfg.Nodes {
		if len(nc.ClusterDNS) == 0 {
			nc.ClusterDNS = []string{dnsIP.String()}
		}
		if nc.ClusterDomain == "" {
			nc.ClusterDomain = cfg.ClusterDomain
		}
		if nc.ClusterCIDR == "" {
			nc.ClusterCIDR = cfg.ClusterCIDR
		}
		if nc.Dir == "" {
			nc.Dir = filepath.Join(cfg.DataDir, "nodes", nc.Name)
		}
		if nc.Logger == nil {
			nc.Logger = cfg.Logger.With("component", "kubelet")
		}
		nc.Kubeconfig = []byte("issued below")
		if nc.Runtime == nil {
			nc.ProxyKubeconfig = []byte("issued below")
		}
		n, err := NewNode(nc)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	apiCfg := apiserver.Config{DataDir: cfg.DataDir, EtcdServers: cfg.EtcdServers, Listen: cfg.Listen,
		ServiceCIDRs: []netip.Prefix{netip.MustParsePrefix(cfg.ServiceCIDR)},
		AuthzFile:    cfg.AuthzFile, KubeconfigOut: cfg.KubeconfigOut, EtcdNoFsync: cfg.EtcdNoFsync,
		EtcdLogLevel: cfg.EtcdLogLevel, AnonymousAuth: true, MetricsResolution: cfg.MetricsResolution,
		MetricsClock: cfg.MetricsClock, Logger: cfg.Logger.With("component", "apiserver"),
		// Two-level scheduling's API group (examples/offers).
		ExtraKinds: append([]apiserver.ExtraKind{apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind)}, cfg.ExtraKinds...),
		TLSSANs:    cfg.TLSSANs}
	api, err := apiserver.New(apiCfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, api: api, nodes: nodes, extra: extra, ready: make(chan struct{}), dnsIP: dnsIP,
		apiCfg: apiCfg, slots: map[string]*slot{}}
	for _, n := range nodes {
		// Issuing fails only if the CA's own files are unusable, which
		// apiserver.New has just checked.
		if n.cfg.Kubeconfig, err = s.NodeKubeconfig(n.Name()); err != nil {
			return nil, err
		}
		if n.cfg.ProxyKubeconfig != nil {
			if n.cfg.ProxyKubeconfig, err = s.IssueKubeconfig(ProxyUser); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// URL returns the apiserver's base URL.
func (s *Server) URL() string { return s.APIServer().URL() }

// KubeconfigPath returns the path of the admin kubeconfig (written once
// Ready).
func (s *Server) KubeconfigPath() string { return s.cfg.KubeconfigOut }

// Kubeconfig returns the admin kubeconfig.
func (s *Server) Kubeconfig() ([]byte, error) { return s.APIServer().Kubeconfig() }

// APIServer returns the apiserver (a new one after Kill restarted it).
func (s *Server) APIServer() *apiserver.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.api
}

// Nodes returns the nodes the server runs, in Config.Nodes' order.
func (s *Server) Nodes() []*Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Node(nil), s.nodes...)
}

// Ready is closed once the apiserver serves and every component and node
// has been started.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// IssueKubeconfig returns a kubeconfig for the apiserver with a new client
// certificate for user in groups, signed by the cluster's CA.
func (s *Server) IssueKubeconfig(user string, groups ...string) ([]byte, error) {
	pki := s.APIServer().PKI()
	cert, key, err := pki.IssueClientCert(user, groups...)
	if err != nil {
		return nil, fmt.Errorf("cluster: issuing a certificate for %s: %w", user, err)
	}
	return apiserver.Kubeconfig(s.URL(), pki.CACert, cert, key, "")
}

// NodeKubeconfig returns a kubeconfig for the kubelet of node name
// (system:node:<name> in system:nodes).
func (s *Server) NodeKubeconfig(name string) ([]byte, error) {
	return s.IssueKubeconfig(NodeUserPrefix+name, NodesGroup)
}

// Run serves the apiserver, then runs the controller-manager (with node
// IPAM on Config.ClusterCIDR and CSR signing with the cluster CA), the
// scheduler, the service load balancer, the DNS, the extra components and
// the nodes until ctx ends; it returns nil then, after every node has
// removed what it made (see Node.Run), or the first fatal error, which
// stops everything else. Each component runs under a supervisor: one that
// Kill stopped, or a controller-manager that lost its lease, is started
// again, as systemd or a kubelet restarts a component's process.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.ran = true
	s.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	first := s.api
	g.Go(func() error { return s.supervise(gctx, ComponentAPIServer, s.runAPIServer) })
	select {
	case <-first.Ready():
	case <-gctx.Done():
		return ignoreCanceled(ctx, g.Wait())
	}
	g.Go(func() error { return s.supervise(gctx, ComponentControllerManager, s.runControllerManager) })
	g.Go(func() error { return s.supervise(gctx, ComponentScheduler, s.runScheduler) })
	g.Go(func() error { return s.supervise(gctx, ComponentServiceLB, s.runServiceLB) })
	g.Go(func() error { return s.supervise(gctx, ComponentDNS, s.runDNS) })
	for _, f := range s.extra {
		g.Go(func() error { return f(gctx, s) })
	}
	for i := range s.nodes {
		g.Go(func() error { return s.supervise(gctx, NodeComponent(s.nodes[i].Name()), s.nodeRunner(i)) })
	}
	close(s.ready)
	s.log.Info("cluster serving", "url", s.URL(), "kubeconfig", s.cfg.KubeconfigOut, "nodes", len(s.nodes))
	return ignoreCanceled(ctx, g.Wait())
}

// runAPIServer runs the apiserver; after a Kill, a new one on the same
// address, data and PKI.
func (s *Server) runAPIServer(ctx context.Context) error {
	s.mu.Lock()
	api := s.api
	if s.apiRan {
		var err error
		cfg := s.apiCfg
		cfg.Listen = api.Addr()
		if api, err = apiserver.New(cfg); err != nil {
			s.mu.Unlock()
			return err
		}
		s.api = api
	}
	s.apiRan = true
	s.mu.Unlock()
	return api.Run(ctx)
}

// runControllerManager runs a new controller-manager.
func (s *Server) runControllerManager(ctx context.Context) error {
	cm, err := s.componentClient(ControllerManagerUser)
	if err != nil {
		return err
	}
	pki := s.APIServer().PKI()
	m, err := controllermanager.New(controllermanager.Config{Client: cm, Controllers: s.cfg.Controllers,
		ClusterCIDR: s.cfg.ClusterCIDR, NodeCIDRMaskSize: s.cfg.NodeMaskSize,
		ClusterSigningCert: pki.CACert, ClusterSigningKey: pki.CAKey,
		LeaseDuration: s.cfg.LeaseDuration, RenewDeadline: s.cfg.RenewDeadline, RetryPeriod: s.cfg.RetryPeriod,
		Logger: s.log.With("component", "controller-manager")})
	if err != nil {
		return err
	}
	if err := m.Run(ctx); !errors.Is(err, controllermanager.ErrLeadershipLost) {
		return err
	}
	return errRestart
}

// runScheduler runs a new scheduler.
func (s *Server) runScheduler(ctx context.Context) error {
	sc, err := s.componentClient(SchedulerUser)
	if err != nil {
		return err
	}
	sched, err := scheduler.New(scheduler.Config{Client: sc, Logger: s.log.With("component", "scheduler")})
	if err != nil {
		return err
	}
	return sched.Run(ctx)
}

// runServiceLB runs a new service load balancer, as the controller-manager.
func (s *Server) runServiceLB(ctx context.Context) error {
	cs, err := s.componentClient(ControllerManagerUser)
	if err != nil {
		return err
	}
	lb, err := servicelb.New(servicelb.Config{Client: cs, Pool: []netip.Prefix{netip.MustParsePrefix(s.cfg.LoadBalancerPool)},
		Logger: s.log.With("component", "servicelb")})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cs.Informers().Run(gctx) })
	g.Go(func() error { return lb.Run(gctx) })
	return g.Wait()
}

// nodeRunner runs the i-th node; after a Kill, a new Node with the same
// configuration, which adopts the pods the killed one left running.
func (s *Server) nodeRunner(i int) func(context.Context) error {
	return func(ctx context.Context) error {
		s.mu.Lock()
		n := s.nodes[i]
		if n.hasRun() {
			var err error
			if n, err = NewNode(n.Config()); err != nil {
				s.mu.Unlock()
				return err
			}
			s.nodes[i] = n
		}
		s.mu.Unlock()
		return n.Run(ctx)
	}
}

// ignoreCanceled turns the cancellation that ctx's end caused into nil.
func ignoreCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// componentClient returns a clientset with a new certificate for user in
// groups.
func (s *Server) componentClient(user string, groups ...string) (*client.Clientset, error) {
	kc, err := s.IssueKubeconfig(user, groups...)
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{Kubeconfig: kc, QPS: s.cfg.ComponentQPS, Burst: s.cfg.ComponentBurst,
		Logger: s.log.With("component", user)})
}

// adminClient returns a system:masters clientset, for what the server
// itself installs (the DNS's Service), as kubeadm installs its add-ons.
func (s *Server) adminClient() (*client.Clientset, error) {
	kc, err := s.APIServer().Kubeconfig()
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return client.New(client.Config{Kubeconfig: kc, Logger: s.log.With("component", "server")})
}

// StopNode stops the node name (its kubelet ends and, unless Keep, it
// removes its containers, bridge and files) and waits until it has. The
// Node object stays in the apiserver, as when a machine goes down.
func (s *Server) StopNode(ctx context.Context, name string) error {
	err := s.stop(ctx, NodeComponent(name), false)
	if errors.Is(err, ErrUnknownComponent) {
		return fmt.Errorf("%w %q (the server runs %d nodes, and only once Ready)", ErrUnknownNode, name, len(s.nodes))
	}
	return err
}
