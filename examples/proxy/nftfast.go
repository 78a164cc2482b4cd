package proxy

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// fastChain describes a service chain whose rules the netlink path can
// write: an optional masquerade mark (for sources outside masqFrom, or for
// every source with masqAll), then the pick of an endpoint: one DNAT to
// it, a DNAT through an inline map indexed by a random number, or a drop
// when there is none. These are the chains an endpoint change rewrites
// (without session affinity); their rules are the same as the nft text
// of nftBackend.dispatch.
type fastChain struct {
	masqFrom netip.Prefix // invalid: none
	masqAll  bool
	proto    string
	eps      []endpoint
}

// rulesetWriter writes chains' rules straight through netlink, in one
// batch: no nft process, so none of the cache listing of the whole table
// that nft does first, which takes most of a small sync's time on a large
// table (about 0.1 s for 5,000 services).
type rulesetWriter interface {
	rewrite(table string, chains map[string]*fastChain) error
}

// netlinkWriter is the rulesetWriter on the kernel, in the network
// namespace of the calling thread (each write dials its own socket).
type netlinkWriter struct{}

func protoNumber(p string) (byte, bool) {
	switch p {
	case "tcp":
		return unix.IPPROTO_TCP, true
	case "udp":
		return unix.IPPROTO_UDP, true
	case "sctp":
		return unix.IPPROTO_SCTP, true
	}
	return 0, false
}

func (netlinkWriter) rewrite(table string, chains map[string]*fastChain) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	t := &nftables.Table{Name: table, Family: nftables.TableFamilyIPv4}
	for _, name := range slices.Sorted(maps.Keys(chains)) {
		ch := &nftables.Chain{Name: name, Table: t}
		c.FlushChain(ch)
		if err := addFastRules(c, ch, chains[name]); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("netlink write of table %s: %w", table, err)
	}
	return nil
}

// addFastRules queues fc's rules into ch, encoded as nft 1.0 encodes the
// same text.
func addFastRules(c *nftables.Conn, ch *nftables.Chain, fc *fastChain) error {
	rule := func(e ...expr.Any) { c.AddRule(&nftables.Rule{Table: ch.Table, Chain: ch, Exprs: e}) }
	jumpMasq := &expr.Verdict{Kind: expr.VerdictJump, Chain: chainMarkMasq}
	switch {
	case fc.masqAll:
		rule(jumpMasq)
	case fc.masqFrom.IsValid():
		rule(append(prefixMismatch(fc.masqFrom), jumpMasq)...)
	}
	if len(fc.eps) == 0 {
		rule(&expr.Verdict{Kind: expr.VerdictDrop})
		return nil
	}
	proto, ok := protoNumber(fc.proto)
	if !ok {
		return fmt.Errorf("netlink: protocol %q", fc.proto)
	}
	isProto := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
	if len(fc.eps) == 1 {
		ep := fc.eps[0]
		a := ep.addr.As4()
		rule(append(isProto,
			&expr.Immediate{Register: 1, Data: a[:]},
			&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(uint16(ep.port))},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true})...)
		return nil
	}
	// The ID and the anonymous name are set here: the library would take
	// the ID from a package variable it increments without a lock, which
	// races when several proxies run in one process.
	set := &nftables.Set{Table: ch.Table, Anonymous: true, Constant: true, IsMap: true,
		ID: setIDs.Add(1), Name: "__map%d",
		KeyType: nftables.TypeInteger, KeyByteOrder: binaryutil.NativeEndian,
		DataType: nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)}
	elems := make([]nftables.SetElement, len(fc.eps))
	for i, ep := range fc.eps {
		a := ep.addr.As4()
		val := make([]byte, 8) // address, then the port padded to a register
		copy(val, a[:])
		binary.BigEndian.PutUint16(val[4:], uint16(ep.port))
		elems[i] = nftables.SetElement{Key: binaryutil.NativeEndian.PutUint32(uint32(i)), Val: val}
	}
	if err := c.AddSet(set, elems); err != nil {
		return fmt.Errorf("netlink: endpoint map of chain %s: %w", ch.Name, err)
	}
	rule(append(isProto,
		&expr.Numgen{Register: 1, Modulus: uint32(len(fc.eps)), Type: unix.NFT_NG_RANDOM},
		&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetID: set.ID, SetName: set.Name},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 9})...)
	return nil
}

// setIDs numbers the anonymous maps of the netlink writes (an ID only
// has to be unique within its batch).
var setIDs atomic.Uint32

// prefixMismatch matches IPv4 sources outside p: a load of the whole
// bytes the prefix covers, masked when it ends inside a byte.
func prefixMismatch(p netip.Prefix) []expr.Any {
	a := p.Masked().Addr().As4()
	bits := p.Bits()
	n := uint32((bits + 7) / 8)
	out := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: n}}
	if bits%8 != 0 {
		// nft loads the whole address and masks it then.
		n = 4
		out[0].(*expr.Payload).Len = 4
		mask := make([]byte, 4)
		for i := range bits {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		out = append(out, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)})
	}
	return append(out, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: a[:n]})
}
