package etcdtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/embedetcd"
)

// StartTimeout bounds the start of a server or cluster.
var StartTimeout = 60 * time.Second

// testConfig is the configuration every server here starts with: quiet,
// without fsync (test data need not survive a machine crash), in a
// temporary directory.
func testConfig() embedetcd.Config {
	return embedetcd.Config{LogLevel: "error", UnsafeNoFsync: true, StartTimeout: StartTimeout}
}

// Start starts an embedded etcd server for one test (in a temporary
// directory, on random loopback ports) and stops it, removing its data, when
// the test ends. configure, if given, adjusts the configuration first.
func Start(t testing.TB, configure ...func(*embedetcd.Config)) *embedetcd.Server {
	t.Helper()
	cfg := testConfig()
	for _, f := range configure {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := embedetcd.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("etcdtest: starting embedded etcd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("etcdtest: stopping embedded etcd: %v", err)
		}
	})
	return s
}

// StartCluster starts an n-member in-process etcd cluster for one test and
// stops it when the test ends.
func StartCluster(t testing.TB, n int, configure ...func(*embedetcd.Config)) *embedetcd.Cluster {
	t.Helper()
	cfg := testConfig()
	for _, f := range configure {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	c, err := embedetcd.StartCluster(ctx, n, cfg)
	if err != nil {
		t.Fatalf("etcdtest: starting a %d-member etcd cluster: %v", n, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("etcdtest: stopping the etcd cluster: %v", err)
		}
	})
	return c
}

var shared struct {
	sync.Mutex
	inMain bool
	srv    *embedetcd.Server
	err    error
}

// RunMain runs the tests of m and then stops the server Shared started.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(etcdtest.RunMain(m)) }
func RunMain(m *testing.M) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "etcdtest: stopping the shared embedded etcd:", err)
			if code == 0 {
				code = 1
			}
		}
		shared.srv = nil
	}
	return code
}

// Shared returns one embedded etcd server shared by every test of the
// binary, started on first use and stopped by RunMain. Tests sharing it
// must use distinct key prefixes. Without RunMain in TestMain, Shared
// falls back to Start: a server per test.
func Shared(t testing.TB) *embedetcd.Server {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.inMain {
		return Start(t)
	}
	if shared.srv == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		defer cancel()
		shared.srv, shared.err = embedetcd.Start(ctx, testConfig())
	}
	if shared.err != nil {
		t.Fatalf("etcdtest: starting the shared embedded etcd: %v", shared.err)
	}
	return shared.srv
}
