package nodeipam

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
)

// TestReleasedReservationIsFree: a claim this allocator made and another
// allocator released before this one's cache was asked about it does not
// stay counted as used (it once did, forever: with three allocators a
// loaded run ran out of CIDRs that were all free).
func TestReleasedReservationIsFree(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	a, err := New(Config{Client: cs, ClusterCIDR: "10.244.0.0/16", NodeMaskSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	ctx := context.Background()
	if err := a.claims.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	n := &api.Node{}
	n.Name = "node-a"
	node, err := cs.Nodes().Create(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	const cidr = "10.244.7.0/24"
	if err := a.claim(ctx, node, cidr); err != nil {
		t.Fatal(err)
	}
	// Another allocator releases it before this cache is consulted.
	a.mu.Lock()
	r := a.reserved[cidr]
	a.mu.Unlock()
	l, err := cs.Leases().Get(ctx, a.cfg.ClaimNamespace, claimName(cidr))
	if err != nil {
		t.Fatal(err)
	}
	if strconv.FormatInt(r.rev, 10) != l.ResourceVersion {
		t.Fatalf("reservation at revision %d, claim at %s", r.rev, l.ResourceVersion)
	}
	if err := cs.Leases().DeleteNow(ctx, l.Namespace, l.Name); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "cache past the release", func() error {
		if _, ok := a.claims.Get(l.Namespace, l.Name); ok || a.claims.Revision() <= r.rev {
			return errors.New("not yet")
		}
		return nil
	})
	if a.used()[cidr] {
		t.Fatalf("CIDR %s still counted as used after its claim was released", cidr)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.reserved[cidr]; ok {
		t.Fatalf("reservation of %s kept after the cache passed its release", cidr)
	}
}
