package nodeipam_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/examples/controllers/nodeipam"
	"github.com/setpoint-dev/setpoint/store"
)

// startAllocator runs an allocator with its own client and informers, as
// a separate controller-manager would.
func startAllocator(t *testing.T, s *apiserver.Server, cidr string, mask int) {
	t.Helper()
	cs := controllertest.Clientset(t, s)
	rec, err := controllerutil.NewRecorder(controllerutil.RecorderConfig{Client: cs.Events(), Component: "node-ipam-controller"})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "recorder", rec.Run)
	a, err := nodeipam.New(nodeipam.Config{Client: cs, ClusterCIDR: cidr, NodeMaskSize: mask, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "nodeipam", a.Run)
}

func createNode(t testing.TB, cs *client.Clientset, name string, mutate ...func(*api.Node)) {
	n := &api.Node{}
	n.Name = name
	for _, m := range mutate {
		m(n)
	}
	if _, err := cs.Nodes().Create(context.Background(), n); err != nil {
		t.Error(err)
	}
}

// cidrs returns node -> pod CIDR, failing while a node has none.
func cidrs(cs *client.Clientset, want int) (map[string]string, error) {
	l, err := cs.Nodes().List(context.Background(), "", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range l.Items {
		if n.Spec.PodCIDR == "" {
			return nil, fmt.Errorf("node %s has no pod CIDR", n.Name)
		}
		if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
			return nil, fmt.Errorf("node %s podCIDRs %v, want [%s]", n.Name, n.Spec.PodCIDRs, n.Spec.PodCIDR)
		}
		out[n.Name] = n.Spec.PodCIDR
	}
	if len(out) != want {
		return nil, fmt.Errorf("%d nodes, want %d", len(out), want)
	}
	return out, nil
}

// TestConcurrentAllocators: three allocators (no election) give 100
// nodes, created concurrently, 100 distinct /24s of the cluster /16; a
// deleted node's CIDR is released and handed out again.
func TestConcurrentAllocators(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	for range 3 {
		startAllocator(t, s, "10.244.0.0/16", 24)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 100; i += 4 {
				createNode(t, cs, fmt.Sprintf("node-%03d", i))
			}
		}()
	}
	wg.Wait()
	var got map[string]string
	controllertest.Eventually(t, "every node allocated", func() (err error) {
		got, err = cidrs(cs, 100)
		return err
	})
	cluster := netip.MustParsePrefix("10.244.0.0/16")
	seen := map[string]string{}
	for node, c := range got {
		p, err := netip.ParsePrefix(c)
		if err != nil || p.Bits() != 24 || !cluster.Contains(p.Addr()) {
			t.Errorf("node %s: CIDR %s not a /24 of %s", node, c, cluster)
		}
		if other, dup := seen[c]; dup {
			t.Errorf("CIDR %s given to %s and %s", c, other, node)
		}
		seen[c] = node
	}
	// Release: delete a node, its claim goes; a new node may get its CIDR.
	ctx := context.Background()
	freed := got["node-042"]
	if err := cs.Nodes().DeleteNow(ctx, "", "node-042"); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "claim released", func() error {
		_, err := cs.Leases().Get(ctx, nodeipam.DefaultClaimNamespace, "podcidr-"+dash(freed))
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("claim of %s still there (err %v)", freed, err)
		}
		return nil
	})
	createNode(t, cs, "node-new")
	controllertest.Eventually(t, "new node allocated", func() error {
		got, err := cidrs(cs, 100)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, c := range got {
			if seen[c] {
				return fmt.Errorf("CIDR %s given twice", c)
			}
			seen[c] = true
		}
		return nil
	})
}

func dash(cidr string) string {
	b := []byte(cidr)
	for i, c := range b {
		if c == '.' || c == '/' || c == ':' {
			b[i] = '-'
		}
	}
	return string(b)
}

// TestRepairAndExhaustion: at startup a claim of a node that no longer
// exists is released and a CIDR a node holds without a claim is claimed;
// when the range is exhausted a node stays without a CIDR.
func TestRepairAndExhaustion(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	createNode(t, cs, "held", func(n *api.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.0.1.0/24", []string{"10.0.1.0/24"} })
	ghost := &election.Lease{}
	ghost.Namespace, ghost.Name = nodeipam.DefaultClaimNamespace, "podcidr-10-0-0-0-24"
	ghost.Labels = map[string]string{nodeipam.LabelClaim: "true", nodeipam.LabelNode: "ghost"}
	ghost.Annotations = map[string]string{nodeipam.AnnotationCIDR: "10.0.0.0/24"}
	if _, err := cs.Leases().Create(ctx, ghost); err != nil {
		t.Fatal(err)
	}
	startAllocator(t, s, "10.0.0.0/23", 24) // two subnets
	controllertest.Eventually(t, "repaired", func() error {
		if _, err := cs.Leases().Get(ctx, nodeipam.DefaultClaimNamespace, "podcidr-10-0-0-0-24"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("ghost claim still there (err %v)", err)
		}
		l, err := cs.Leases().Get(ctx, nodeipam.DefaultClaimNamespace, "podcidr-10-0-1-0-24")
		if err != nil {
			return err
		}
		if l.Labels[nodeipam.LabelNode] != "held" {
			return fmt.Errorf("claim of 10.0.1.0/24 for %q", l.Labels[nodeipam.LabelNode])
		}
		return nil
	})
	createNode(t, cs, "second")
	controllertest.Eventually(t, "second allocated", func() error {
		got, err := cidrs(cs, 2)
		if err != nil {
			return err
		}
		if got["second"] != "10.0.0.0/24" {
			return fmt.Errorf("second got %s, want the released 10.0.0.0/24", got["second"])
		}
		return nil
	})
	createNode(t, cs, "third")
	// Nothing is free: the allocator reports CIDRNotAvailable and the
	// node stays without a CIDR.
	controllertest.Eventually(t, "CIDRNotAvailable event", func() error {
		l, err := cs.Events().List(ctx, "default", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, e := range l.Items {
			if e.Reason == "CIDRNotAvailable" && e.InvolvedObject.Name == "third" {
				return nil
			}
		}
		return fmt.Errorf("no CIDRNotAvailable event among %d", len(l.Items))
	})
	n, err := cs.Nodes().Get(ctx, "", "third")
	if err != nil {
		t.Fatal(err)
	}
	if n.Spec.PodCIDR != "" {
		t.Errorf("third got %s from an exhausted range", n.Spec.PodCIDR)
	}
}

func TestConfigValidate(t *testing.T) {
	cs := &client.Clientset{}
	for _, c := range []nodeipam.Config{{}, {Client: cs}, {Client: cs, ClusterCIDR: "10.0.0.0"}, {Client: cs, ClusterCIDR: "10.0.0.1/16"},
		{Client: cs, ClusterCIDR: "10.0.0.0/16", NodeMaskSize: 8}, {Client: cs, ClusterCIDR: "10.0.0.0/8", NodeMaskSize: 28},
		{Client: cs, ClusterCIDR: "10.0.0.0/16", NodeMaskSize: 33}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		} else if _, err := nodeipam.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
