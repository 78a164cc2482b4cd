package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/setpoint-dev/setpoint/store/etcd"
)

// ErrInvalidConfig is wrapped by configuration errors.
var ErrInvalidConfig = errors.New("embedetcd: invalid configuration")

// Config configures an embedded etcd server. The zero value is a quiet
// server in a new temporary directory on random loopback ports.
type Config struct {
	// Dir is the data directory. Empty: a new temporary directory that
	// Close removes.
	Dir string
	// Name is the member name (default "default").
	Name string
	// LogLevel is etcd's log level: "debug", "info", "warn", "error"
	// (default) or "off".
	LogLevel string
	// Logger, if set, receives etcd's log entries (at LogLevel and above);
	// otherwise they go to standard error.
	Logger *slog.Logger
	// WatchProgressNotifyInterval, when positive, makes the server send
	// progress notifications to idle watches at this interval; the store
	// delivers them as watch.Bookmark events.
	WatchProgressNotifyInterval time.Duration
	// QuotaBackendBytes is the size the database may reach before etcd
	// refuses writes with "database space exceeded" (0: etcd's default,
	// 2 GiB). Tests set it low to reach that state.
	QuotaBackendBytes int64
	// UnsafeNoFsync skips fsync: much faster, but a machine crash loses
	// data. For tests.
	UnsafeNoFsync bool
	// StartTimeout bounds the wait for the server to become ready (default
	// 30s).
	StartTimeout time.Duration
	// TickMs and ElectionMs are raft's heartbeat interval and election
	// timeout in milliseconds. Defaults: 100 and 1000 (etcd's) for cluster
	// members; 10 and 100 for a single-member Server, which has no peers to
	// lose and so elects itself sooner.
	TickMs, ElectionMs uint
}

// Validate checks c.
func (c Config) Validate() error {
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error", "off":
	default:
		return fmt.Errorf("%w: log level %q: want debug, info, warn, error or off", ErrInvalidConfig, c.LogLevel)
	}
	if c.WatchProgressNotifyInterval < 0 || c.StartTimeout < 0 || c.QuotaBackendBytes < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	}
	if c.ElectionMs != 0 && c.TickMs != 0 && c.ElectionMs < 5*c.TickMs {
		return fmt.Errorf("%w: election timeout %dms must be at least 5 heartbeats (%dms)", ErrInvalidConfig, c.ElectionMs, 5*c.TickMs)
	}
	if c.Name != "" && strings.ContainsAny(c.Name, "=,") {
		return fmt.Errorf("%w: name %q must not contain '=' or ','", ErrInvalidConfig, c.Name)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "default"
	}
	if c.LogLevel == "" {
		c.LogLevel = "error"
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.TickMs == 0 {
		c.TickMs = 100
	}
	if c.ElectionMs == 0 {
		c.ElectionMs = 1000
	}
	return c
}

// Server is a running embedded etcd server with one member.
type Server struct {
	m       *member
	client  *clientv3.Client
	backend *etcd.Backend
	tempDir bool
}

// Start starts an embedded etcd server on 127.0.0.1 with random free ports
// and waits until it serves requests. Close it when done.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TickMs == 0 && cfg.ElectionMs == 0 {
		cfg.TickMs, cfg.ElectionMs = 10, 100
	}
	cfg = cfg.withDefaults()
	s := &Server{}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "embedetcd-")
		if err != nil {
			return nil, fmt.Errorf("embedetcd: %w", err)
		}
		cfg.Dir, s.tempDir = dir, true
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var m *member
		if m, err = newMember(cfg, cfg.Name, cfg.Dir); err != nil {
			break
		}
		m.initialCluster = m.name + "=" + m.peerURL
		if err = m.start(embed.ClusterStateFlagNew); err == nil {
			s.m = m
			break
		}
		if !isAddrInUse(err) {
			break
		}
	}
	if err == nil {
		err = s.m.waitReady(ctx, cfg.StartTimeout)
	}
	if err == nil {
		s.client, err = newClient(s.Endpoints())
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.backend = etcd.New(s.client)
	return s, nil
}

// Endpoints returns the client URLs ("http://127.0.0.1:port").
func (s *Server) Endpoints() []string { return []string{s.m.clientURL} }

// Dir returns the data directory.
func (s *Server) Dir() string { return s.m.dir }

// Client returns a client connected to the server, owned by the server
// (Close closes it).
func (s *Server) Client() *clientv3.Client { return s.client }

// Backend returns a store backend on Client, owned by the server.
func (s *Server) Backend() *etcd.Backend { return s.backend }

// NewClient returns a new client connected to the server; the caller
// closes it.
func (s *Server) NewClient() (*clientv3.Client, error) { return newClient(s.Endpoints()) }

// Close stops the server, closes its client and removes a temporary data
// directory. It is safe to call more than once.
func (s *Server) Close() error {
	if s.backend != nil {
		_ = s.backend.Close()
	}
	var err error
	if s.client != nil {
		err = s.client.Close()
		s.client = nil
	}
	if s.m != nil {
		s.m.stop()
		if s.tempDir {
			if rerr := os.RemoveAll(s.m.dir); rerr != nil && err == nil {
				err = rerr
			}
			s.tempDir = false
		}
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// member is one etcd member's configuration and, while running, its
// server.
type member struct {
	cfg            Config
	name, dir      string
	clientURL      string
	peerURL        string
	initialCluster string
	e              *embed.Etcd
	// stopping silences the member's logger while it shuts down: etcd logs
	// its own listeners closing as errors.
	stopping atomic.Bool
}

func newMember(cfg Config, name, dir string) (*member, error) {
	cp, err := freePort()
	if err != nil {
		return nil, err
	}
	pp, err := freePort()
	if err != nil {
		return nil, err
	}
	return &member{
		cfg:       cfg,
		name:      name,
		dir:       dir,
		clientURL: fmt.Sprintf("http://127.0.0.1:%d", cp),
		peerURL:   fmt.Sprintf("http://127.0.0.1:%d", pp),
	}, nil
}

// start launches the member without waiting for it to be ready.
func (m *member) start(state string) error {
	ec := embed.NewConfig()
	ec.Name = m.name
	ec.Dir = m.dir
	cu, _ := url.Parse(m.clientURL)
	pu, _ := url.Parse(m.peerURL)
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.InitialCluster = m.initialCluster
	ec.InitialClusterToken = "setpoint-embedetcd"
	ec.ClusterState = state
	ec.TickMs, ec.ElectionMs = m.cfg.TickMs, m.cfg.ElectionMs
	ec.WatchProgressNotifyInterval = m.cfg.WatchProgressNotifyInterval
	ec.UnsafeNoFsync = m.cfg.UnsafeNoFsync
	ec.QuotaBackendBytes = m.cfg.QuotaBackendBytes
	ec.EnableGRPCGateway = false
	ec.Logger = "zap"
	m.stopping.Store(false)
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapLogger(m.cfg.LogLevel, m.cfg.Logger, &m.stopping))
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return fmt.Errorf("embedetcd: starting member %s: %w", m.name, err)
	}
	m.e = e
	return nil
}

func (m *member) waitReady(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-m.e.Server.ReadyNotify():
		return nil
	case err := <-m.e.Err():
		return fmt.Errorf("embedetcd: member %s failed while starting: %w", m.name, err)
	case <-t.C:
		return fmt.Errorf("embedetcd: member %s not ready after %v", m.name, timeout)
	case <-ctx.Done():
		return fmt.Errorf("embedetcd: waiting for member %s: %w", m.name, ctx.Err())
	}
}

func (m *member) running() bool { return m.e != nil }

func (m *member) stop() {
	if m.e != nil {
		m.stopping.Store(true)
		m.e.Close()
		<-m.e.Server.StopNotify()
		m.e = nil
	}
}

func zapLogger(level string, sl *slog.Logger, stopping *atomic.Bool) *zap.Logger {
	if level == "off" {
		return zap.NewNop()
	}
	var l zapcore.Level
	if err := l.Set(level); err != nil {
		l = zapcore.ErrorLevel
	}
	if sl != nil {
		return zap.New(&slogCore{l: sl, level: l, stopping: stopping})
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(l)
	zc.Sampling = nil
	zc.OutputPaths, zc.ErrorOutputPaths = []string{"stderr"}, []string{"stderr"}
	lg, err := zc.Build(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &quietCore{Core: c, stopping: stopping}
	}))
	if err != nil {
		return zap.NewNop()
	}
	return lg
}

// quietCore drops every entry once its member is stopping, and a few
// benign ones always.
type quietCore struct {
	zapcore.Core
	stopping *atomic.Bool
}

func (c *quietCore) Enabled(l zapcore.Level) bool {
	return !c.stopping.Load() && c.Core.Enabled(l)
}

func (c *quietCore) With(f []zapcore.Field) zapcore.Core {
	return &quietCore{Core: c.Core.With(f), stopping: c.stopping}
}

func (c *quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.stopping.Load() || benign[e.Message] {
		return ce
	}
	return c.Core.Check(e, ce)
}

// benign are messages etcd logs as errors that need no action: the storage
// version monitor can run before the first term is stored, and retries.
var benign = map[string]bool{
	"failed to update storage version": true,
}

func newClient(endpoints []string) (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("embedetcd: client for %v: %w", endpoints, err)
	}
	return c, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("embedetcd: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func isAddrInUse(err error) bool {
	return err != nil && strings.Contains(err.Error(), "address already in use")
}
