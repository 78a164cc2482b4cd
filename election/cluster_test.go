package election_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// Each candidate talks to one member of a 3-member etcd cluster. Stopping
// the member the leader talks to cuts the leader off; the election stays
// single-leader (checked by the leadership tracker), a candidate on a live
// member takes over, and after the member restarts its candidate follows.
func TestClusterMemberLoss(t *testing.T) {
	// Raft timing short enough for a 1s minimum lease TTL and quick
	// elections, but not so short that a loaded test machine keeps
	// re-electing.
	cluster := etcdtest.StartCluster(t, 3, func(c *embedetcd.Config) { c.TickMs, c.ElectionMs, c.LogLevel = 25, 250, "off" })
	l := newLeadership(t)
	var cands []*clusterCandidate
	for i := range 3 {
		id := fmt.Sprintf("m%d", i)
		c := newClient(t, hostPort(cluster.Endpoint(i)))
		lock, err := etcdlock.New(c, "/election/cluster")
		if err != nil {
			t.Fatal(err)
		}
		el, err := election.New(election.Config{
			Lock: lock, Identity: id,
			LeaseDuration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 300 * time.Millisecond,
			Callbacks: election.Callbacks{OnStartedLeading: l.callback(id)},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cc := &clusterCandidate{el: el, done: make(chan error, 1)}
		go func() { cc.done <- el.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			select {
			case <-cc.done:
			case <-time.After(30 * time.Second):
				t.Errorf("%s: Run did not return", id)
			}
		})
		cands = append(cands, cc)
	}
	first := l.next(t, 30*time.Second)
	var li int
	fmt.Sscanf(first.id, "m%d", &li)
	t.Logf("leader %s; stopping etcd member %d (raft leader is member %d)", first.id, li, cluster.Leader())
	if err := cluster.Stop(li); err != nil {
		t.Fatal(err)
	}
	second := l.next(t, 30*time.Second)
	if second.id == first.id || second.term <= first.term {
		t.Fatalf("after stopping member %d: %s leads with term %d; want another candidate with a term above %d", li, second.id, second.term, first.term)
	}
	waitFor(t, 10*time.Second, "the cut-off leader to step down", func() bool { return !cands[li].el.IsLeader() })

	if err := cluster.Restart(li); err != nil {
		t.Fatal(err)
	}
	// The restarted member's candidate rejoins as a follower: every
	// candidate agrees on one leader, and only that one says it leads.
	// (Which one it is may change again if raft elections shake the
	// cluster; safety is what the tracker checks.)
	waitFor(t, 30*time.Second, "all candidates to agree on one leader", func() bool {
		ldr := cands[0].el.Leader()
		if ldr == "" {
			return false
		}
		leaders := 0
		for i, c := range cands {
			if c.el.Leader() != ldr {
				return false
			}
			if c.el.IsLeader() {
				leaders++
				if fmt.Sprintf("m%d", i) != ldr {
					return false
				}
			}
		}
		return leaders == 1
	})
	if m := l.maxActing(); m != 1 {
		t.Errorf("%d leaders acted at once, want 1", m)
	}
}

type clusterCandidate struct {
	el   *election.Elector
	done chan error
}
