package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
)

// Cluster is a running in-process etcd cluster of several members on
// loopback, for failure tests: members can be stopped and restarted on
// their data directories. Its methods are safe for concurrent use.
type Cluster struct {
	cfg     Config
	root    string
	tempDir bool
	client  *clientv3.Client

	mu      sync.Mutex
	members []*member
}

// StartCluster starts an n-member cluster (n >= 1) with cfg applied to
// every member (cfg.Dir, if set, is the parent of the members' data
// directories; cfg.Name is a prefix of member names) and waits until every
// member is ready.
func StartCluster(ctx context.Context, n int, cfg Config) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: cluster size %d, want at least 1", ErrInvalidConfig, n)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Cluster{cfg: cfg, root: cfg.Dir}
	if c.root == "" {
		dir, err := os.MkdirTemp("", "embedetcd-cluster-")
		if err != nil {
			return nil, fmt.Errorf("embedetcd: %w", err)
		}
		c.root, c.tempDir = dir, true
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = c.startAll(ctx, n); err == nil || !isAddrInUse(err) {
			break
		}
	}
	if err == nil {
		c.client, err = newClient(c.Endpoints())
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startAll(ctx context.Context, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		m.stop()
		_ = os.RemoveAll(m.dir)
	}
	c.members = nil
	var initial []string
	for i := range n {
		name := fmt.Sprintf("%s-%d", c.cfg.Name, i)
		m, err := newMember(c.cfg, name, filepath.Join(c.root, name))
		if err != nil {
			return err
		}
		c.members = append(c.members, m)
		initial = append(initial, name+"="+m.peerURL)
	}
	for _, m := range c.members {
		m.initialCluster = strings.Join(initial, ",")
		if err := m.start(embed.ClusterStateFlagNew); err != nil {
			return err
		}
	}
	for _, m := range c.members {
		if err := m.waitReady(ctx, c.cfg.StartTimeout); err != nil {
			return err
		}
	}
	return nil
}

// Size returns the number of members.
func (c *Cluster) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.members)
}

func (c *Cluster) member(i int) (*member, error) {
	if i < 0 || i >= len(c.members) {
		return nil, fmt.Errorf("%w: member %d of %d", ErrInvalidConfig, i, len(c.members))
	}
	return c.members[i], nil
}

// Endpoints returns every member's client URL, running or not.
func (c *Cluster) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = m.clientURL
	}
	return eps
}

// Endpoint returns member i's client URL.
func (c *Cluster) Endpoint(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.members) {
		return ""
	}
	return c.members[i].clientURL
}

// Client returns a client with every member's endpoint, owned by the
// cluster; it fails over when members stop.
func (c *Cluster) Client() *clientv3.Client { return c.client }

// MemberClient returns a new client connected to member i only; the caller
// closes it. Reads through it are served by that member (linearizable reads
// still need a quorum).
func (c *Cluster) MemberClient(i int) (*clientv3.Client, error) {
	ep := c.Endpoint(i)
	if ep == "" {
		return nil, fmt.Errorf("%w: no member %d", ErrInvalidConfig, i)
	}
	return newClient([]string{ep})
}

// Running reports whether member i is running.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	return err == nil && m.running()
}

// Stop stops member i gracefully (a leader hands over leadership first).
// Its data directory stays for Restart.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	if err != nil {
		return err
	}
	if !m.running() {
		return fmt.Errorf("embedetcd: member %d is not running", i)
	}
	m.stop()
	return nil
}

// Restart starts stopped member i again on the same data directory and
// ports, and waits (up to the configured StartTimeout) until it has rejoined
// the cluster and serves requests.
func (c *Cluster) Restart(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.member(i)
	if err != nil {
		return err
	}
	if m.running() {
		return fmt.Errorf("embedetcd: member %d is already running", i)
	}
	if err := m.start(embed.ClusterStateFlagExisting); err != nil {
		return err
	}
	if err := m.waitReady(context.Background(), c.cfg.StartTimeout); err != nil {
		m.stop()
		return err
	}
	return nil
}

// Leader returns the index of the member that running members agree is the
// raft leader, or -1 if there is none right now.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		if !m.running() {
			continue
		}
		lead := uint64(m.e.Server.Leader())
		if lead == 0 {
			continue
		}
		for j, o := range c.members {
			if o.running() && uint64(o.e.Server.MemberID()) == lead {
				return j
			}
		}
	}
	return -1
}

// Close stops every member, closes the client and removes temporary data.
// It is safe to call more than once.
func (c *Cluster) Close() error {
	var err error
	if c.client != nil {
		err = c.client.Close()
		c.client = nil
	}
	c.mu.Lock()
	var wg sync.WaitGroup
	for _, m := range c.members {
		wg.Add(1)
		go func() { defer wg.Done(); m.stop() }()
	}
	wg.Wait()
	c.mu.Unlock()
	if c.tempDir {
		if rerr := os.RemoveAll(c.root); rerr != nil && err == nil {
			err = rerr
		}
		c.tempDir = false
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
