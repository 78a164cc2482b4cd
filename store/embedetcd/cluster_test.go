package embedetcd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// eventually retries fn until it succeeds or the deadline passes.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after 45s: %v", what, err)
}

func put(ctx context.Context, c *clientv3.Client, k, v string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := c.Put(ctx, k, v)
	return err
}

// TestClusterLeaderFailover stops the leader of a 3-member cluster: writes
// go on through a client with every endpoint; the restarted member catches
// up, so reads served by it alone show the writes it missed.
func TestClusterLeaderFailover(t *testing.T) {
	ctx := ctxT(t)
	c := etcdtest.StartCluster(t, 3)
	if c.Size() != 3 || len(c.Endpoints()) != 3 {
		t.Fatalf("cluster of %d with endpoints %v", c.Size(), c.Endpoints())
	}
	eventually(t, "write before failover", func() error { return put(ctx, c.Client(), "/before", "1") })
	leader := -1
	eventually(t, "finding the leader", func() error {
		if leader = c.Leader(); leader < 0 {
			return fmt.Errorf("no leader")
		}
		return nil
	})
	if err := c.Stop(leader); err != nil {
		t.Fatalf("Stop(%d): %v", leader, err)
	}
	if c.Running(leader) {
		t.Fatal("stopped member still running")
	}
	if err := c.Stop(leader); err == nil {
		t.Fatal("stopping a stopped member succeeded")
	}
	for i := range 20 {
		eventually(t, "write after failover", func() error { return put(ctx, c.Client(), fmt.Sprintf("/after/%02d", i), "2") })
	}
	eventually(t, "a new leader", func() error {
		if l := c.Leader(); l < 0 || l == leader {
			return fmt.Errorf("leader is %d", l)
		}
		return nil
	})
	if err := c.Restart(leader); err != nil {
		t.Fatalf("Restart(%d): %v", leader, err)
	}
	if err := c.Restart(leader); err == nil {
		t.Fatal("restarting a running member succeeded")
	}
	mc, err := c.MemberClient(leader)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	// A serializable read is answered from the member's own state.
	eventually(t, "restarted member catching up", func() error {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		resp, err := mc.Get(rctx, "/after/", clientv3.WithPrefix(), clientv3.WithSerializable())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 20 {
			return fmt.Errorf("member %d has %d of 20 keys written while it was down", leader, len(resp.Kvs))
		}
		return nil
	})
	// And it takes part in new writes.
	eventually(t, "write after restart", func() error { return put(ctx, c.Client(), "/final", "3") })
	eventually(t, "restarted member sees the new write", func() error {
		resp, err := mc.Get(ctx, "/final", clientv3.WithSerializable())
		if err != nil {
			return err
		}
		if len(resp.Kvs) != 1 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}
