package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllermanager"
	"github.com/setpoint-dev/setpoint/examples/scheduler"
)

// Identities of the control-plane components, as in Kubernetes.
const (
	ControllerManagerUser = "system:kube-controller-manager"
	SchedulerUser         = "system:kube-scheduler"
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

	mu      sync.Mutex
	ran     bool
	stopped map[string]chan struct{} // by node name: closed when the node's Run returned
	cancel  map[string]context.CancelFunc
}

// New checks cfg, writes the authorization rules (if Config.AuthzFile is
// empty), loads or makes the PKI, binds the apiserver's address and
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
	if cfg.AuthzFile == "" {
		cfg.AuthzFile = filepath.Join(cfg.DataDir, "authz.json")
		if err := writeRules(cfg.AuthzFile); err != nil {
			return nil, err
		}
	}
	// The nodes are checked before the apiserver binds its address, so
	// that a bad node leaves nothing bound; their kubeconfigs come after.
	var nodes []*Node
	for i, nc := range cfg.Nodes {
		if nc.PodCIDR == "" {
			nc.PodCIDR, _ = NodeSubnet(cfg.ClusterCIDR, cfg.NodeMaskSize, i+1) // checked by Validate
		}
		if nc.Dir == "" {
			nc.Dir = filepath.Join(cfg.DataDir, "nodes", nc.Name)
		}
		if nc.Logger == nil {
			nc.Logger = cfg.Logger.With("component", "kubelet")
		}
		nc.Kubeconfig = []byte("issued below")
		n, err := NewNode(nc)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	api, err := apiserver.New(apiserver.Config{DataDir: cfg.DataDir, EtcdServers: cfg.EtcdServers, Listen: cfg.Listen,
		AuthzFile: cfg.AuthzFile, KubeconfigOut: cfg.KubeconfigOut, EtcdNoFsync: cfg.EtcdNoFsync,
		EtcdLogLevel: cfg.EtcdLogLevel, AnonymousAuth: true, Logger: cfg.Logger.With("component", "apiserver")})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, api: api, nodes: nodes, extra: extra, ready: make(chan struct{}),
		stopped: map[string]chan struct{}{}, cancel: map[string]context.CancelFunc{}}
	for _, n := range nodes {
		// Issuing fails only if the CA's own files are unusable, which
		// apiserver.New has just checked.
		if n.cfg.Kubeconfig, err = s.NodeKubeconfig(n.Name()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// writeRules writes the stand-in authorization rules: each component's
// identity may do everything, as system:masters may.
func writeRules(path string) error {
	rules := apiserver.Rules{
		{Group: "system:masters", Verbs: []string{"*"}, Resources: []string{"*"}},
		{User: ControllerManagerUser, Verbs: []string{"*"}, Resources: []string{"*"}},
		{User: SchedulerUser, Verbs: []string{"*"}, Resources: []string{"*"}},
		{Group: NodesGroup, Verbs: []string{"*"}, Resources: []string{"*"}},
	}
	b, err := json.MarshalIndent(rules, "", "  ")
	if err == nil {
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		return fmt.Errorf("cluster: writing authorization rules: %w", err)
	}
	return nil
}

// URL returns the apiserver's base URL.
func (s *Server) URL() string { return s.api.URL() }

// KubeconfigPath returns the path of the admin kubeconfig (written once
// Ready).
func (s *Server) KubeconfigPath() string { return s.cfg.KubeconfigOut }

// Kubeconfig returns the admin kubeconfig.
func (s *Server) Kubeconfig() ([]byte, error) { return s.api.Kubeconfig() }

// APIServer returns the apiserver.
func (s *Server) APIServer() *apiserver.Server { return s.api }

// Nodes returns the nodes the server runs, in Config.Nodes' order.
func (s *Server) Nodes() []*Node { return append([]*Node(nil), s.nodes...) }

// Ready is closed once the apiserver serves and every component and node
// has been started.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// IssueKubeconfig returns a kubeconfig for the apiserver with a new client
// certificate for user in groups, signed by the cluster's CA.
func (s *Server) IssueKubeconfig(user string, groups ...string) ([]byte, error) {
	cert, key, err := s.api.PKI().IssueClientCert(user, groups...)
	if err != nil {
		return nil, fmt.Errorf("cluster: issuing a certificate for %s: %w", user, err)
	}
	pki := s.api.PKI()
	return apiserver.Kubeconfig(s.URL(), pki.CACert, cert, key, "")
}

// NodeKubeconfig returns a kubeconfig for the kubelet of node name
// (system:node:<name> in system:nodes).
func (s *Server) NodeKubeconfig(name string) ([]byte, error) {
	return s.IssueKubeconfig(NodeUserPrefix+name, NodesGroup)
}

// Run serves the apiserver, then runs the controller-manager, the
// scheduler, the extra components and the nodes until ctx ends; it returns
// nil then, after every node has removed what it made (see Node.Run), or
// the first fatal error, which stops everything else.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return ErrAlreadyRunning
	}
	s.ran = true
	s.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.api.Run(gctx) })
	select {
	case <-s.api.Ready():
	case <-gctx.Done():
		return ignoreCanceled(ctx, g.Wait())
	}
	cm, err := s.componentClient(ControllerManagerUser)
	if err != nil {
		return s.abort(g, err)
	}
	m, err := controllermanager.New(controllermanager.Config{Client: cm, Controllers: s.cfg.Controllers,
		LeaseDuration: s.cfg.LeaseDuration, RenewDeadline: s.cfg.RenewDeadline, RetryPeriod: s.cfg.RetryPeriod,
		ClusterSigningCert: s.api.PKI().CACert, ClusterSigningKey: s.api.PKI().CAKey,
		Logger: s.log.With("component", "controller-manager")})
	if err != nil {
		return s.abort(g, err)
	}
	sc, err := s.componentClient(SchedulerUser)
	if err != nil {
		return s.abort(g, err)
	}
	sched, err := scheduler.New(scheduler.Config{Client: sc, Logger: s.log.With("component", "scheduler")})
	if err != nil {
		return s.abort(g, err)
	}
	g.Go(func() error { return m.Run(gctx) })
	g.Go(func() error { return sched.Run(gctx) })
	for _, f := range s.extra {
		g.Go(func() error { return f(gctx, s) })
	}
	for _, n := range s.nodes {
		nctx, cancel := context.WithCancel(gctx)
		done := make(chan struct{})
		s.mu.Lock()
		s.cancel[n.Name()], s.stopped[n.Name()] = cancel, done
		s.mu.Unlock()
		g.Go(func() error {
			defer close(done)
			defer cancel()
			return n.Run(nctx)
		})
	}
	close(s.ready)
	s.log.Info("cluster serving", "url", s.URL(), "kubeconfig", s.cfg.KubeconfigOut, "nodes", len(s.nodes))
	return ignoreCanceled(ctx, g.Wait())
}

// abort stops what Run started and returns err.
func (s *Server) abort(g *errgroup.Group, err error) error {
	g.Go(func() error { return err })
	return g.Wait()
}

// ignoreCanceled turns the cancellation that ctx's end caused into nil.
func ignoreCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		return nil
	}
	return err
}

// componentClient returns a clientset with a new certificate for user.
func (s *Server) componentClient(user string) (*client.Clientset, error) {
	kc, err := s.IssueKubeconfig(user)
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{Kubeconfig: kc, Logger: s.log.With("component", user)})
}

// StopNode stops the node name (its kubelet ends and, unless Keep, it
// removes its containers, bridge and files) and waits until it has. The
// Node object stays in the apiserver, as when a machine goes down.
func (s *Server) StopNode(ctx context.Context, name string) error {
	s.mu.Lock()
	cancel, done := s.cancel[name], s.stopped[name]
	s.mu.Unlock()
	if cancel == nil {
		return fmt.Errorf("%w %q (the server runs %d nodes, and only once Ready)", ErrUnknownNode, name, len(s.nodes))
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
