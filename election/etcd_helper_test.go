package election_test

import (
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// fastRaft makes raft's timeouts short, so etcd's minimum lease TTL is 1s
// and a cluster elects a new leader quickly; and silences etcd.
func fastRaft(c *embedetcd.Config) { c.TickMs, c.ElectionMs, c.LogLevel = 10, 100, "off" }

// startEtcd starts a single-member embedded etcd for the test and returns
// its client address (host:port).
func startEtcd(tb testing.TB) string {
	tb.Helper()
	s := etcdtest.Start(tb, fastRaft)
	return hostPort(s.Endpoints()[0])
}

// hostPort turns a client URL into host:port.
func hostPort(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return endpoint
	}
	return u.Host
}

// newClient connects to endpoints with a short reconnect backoff, so a
// client whose proxy was restored reconnects quickly.
func newClient(tb testing.TB, endpoints ...string) *clientv3.Client {
	tb.Helper()
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, MaxDelay: 300 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
		Logger: zap.NewNop(),
	})
	if err != nil {
		tb.Fatalf("etcd client for %v: %v", endpoints, err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
