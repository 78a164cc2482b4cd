package nodeipam

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// cidrSet enumerates the node-sized subnets of a cluster CIDR.
type cidrSet struct {
	cluster netip.Prefix
	mask    int
	count   int
}

// maxSubnets bounds how many node subnets a cluster CIDR may be cut into
// (Kubernetes allows a difference of at most 16 bits between the cluster
// and node masks).
const maxSubnets = 1 << 16

func newCIDRSet(cluster string, mask int) (*cidrSet, error) {
	p, err := netip.ParsePrefix(cluster)
	if err != nil {
		return nil, fmt.Errorf("nodeipam: ClusterCIDR %q: %w", cluster, err)
	}
	if p.Masked() != p {
		return nil, fmt.Errorf("nodeipam: ClusterCIDR %q has host bits set (want %s)", cluster, p.Masked())
	}
	bits := p.Addr().BitLen()
	switch {
	case mask < p.Bits() || mask > bits:
		return nil, fmt.Errorf("nodeipam: NodeMaskSize %d is outside %d..%d for ClusterCIDR %s", mask, p.Bits(), bits, cluster)
	case mask-p.Bits() > 16:
		return nil, fmt.Errorf("nodeipam: NodeMaskSize %d is more than 16 bits longer than ClusterCIDR %s", mask, cluster)
	}
	return &cidrSet{cluster: p, mask: mask, count: 1 << (mask - p.Bits())}, nil
}

// at returns the i-th subnet.
func (s *cidrSet) at(i int) netip.Prefix {
	a := s.cluster.Addr()
	bits := a.BitLen()
	n := new(big.Int).SetBytes(a.AsSlice())
	n.Add(n, new(big.Int).Lsh(big.NewInt(int64(i)), uint(bits-s.mask)))
	buf := make([]byte, bits/8)
	n.FillBytes(buf)
	addr, _ := netip.AddrFromSlice(buf)
	return netip.PrefixFrom(addr, s.mask)
}

// contains reports whether cidr is one of the set's subnets.
func (s *cidrSet) contains(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Bits() == s.mask && p.Masked() == p && s.cluster.Contains(p.Addr())
}

// claimName is the name of the claim object of cidr.
func claimName(cidr string) string {
	return "podcidr-" + strings.NewReplacer(".", "-", ":", "-", "/", "-").Replace(cidr)
}
