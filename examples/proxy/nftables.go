package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/knftables"
)

// Names of the fixed objects of the table.
const (
	chainServices      = "services"
	chainMarkMasq      = "mark-for-masquerade"
	chainMasquerading  = "masquerading"
	chainReject        = "reject-chain"
	chainNATPrerouting = "nat-prerouting"
	chainNATOutput     = "nat-output"
	chainFilterInput   = "filter-input"
	chainFilterForward = "filter-forward"
	chainFilterOutput  = "filter-output"

	mapServiceIPs       = "service-ips"
	mapNodePorts        = "service-nodeports"
	mapNoEndpointIPs    = "no-endpoint-services"
	mapNoEndpointPorts  = "no-endpoint-nodeports"
	addrProtoPortVerdct = "ipv4_addr . inet_proto . inet_service : verdict"
	protoPortVerdict    = "inet_proto . inet_service : verdict"

	// setHairpin holds (endpoint . endpoint . protocol . port) for this
	// node's endpoints: a connection NATed from a pod to itself is
	// masqueraded (hairpin), so the reply comes back through the node.
	setHairpin = "hairpin-connections"
)

// baseChain is a chain attached to a netfilter hook.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
}

// The filter chains run just before the filter priority, so a connection to
// a service without endpoints is rejected before other filtering drops it.
var baseChains = []baseChain{
	{chainNATPrerouting, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority},
	{chainNATOutput, knftables.NATType, knftables.OutputHook, knftables.DNATPriority},
	{chainMasquerading, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority},
	{chainFilterInput, knftables.FilterType, knftables.InputHook, knftables.FilterPriority + " - 10"},
	{chainFilterForward, knftables.FilterType, knftables.ForwardHook, knftables.FilterPriority + " - 10"},
	{chainFilterOutput, knftables.FilterType, knftables.OutputHook, knftables.FilterPriority + " - 10"},
}

var mapTypes = map[string]string{
	mapServiceIPs: addrProtoPortVerdct, mapNoEndpointIPs: addrProtoPortVerdct,
	mapNodePorts: protoPortVerdict, mapNoEndpointPorts: protoPortVerdict,
}

// setTypes are the fixed sets of the table, whose elements a sync
// manages like map elements (with empty values).
var setTypes = map[string]string{
	setHairpin: "ipv4_addr . ipv4_addr . inet_proto . inet_service",
}

// ruleset is the whole content of the proxy's table: chains with their
// rules, map and fixed-set elements (key parts joined by " . "; empty
// values for sets) and affinity sets.
type ruleset struct {
	chains map[string][]string
	maps   map[string]map[string]string
	sets   map[string]time.Duration
	// fast describes the chains whose rules netlink can write (see
	// fastChain), by name.
	fast map[string]*fastChain
	// owners lists the service ports that want each element (nil in the
	// parts a sync compares).
	owners map[elemID][]owner
}

// nftBackend programs the ruleset through knftables, rewriting only what
// changed since the last successful sync.
type nftBackend struct {
	nft knftables.Interface
	// writer, if set, writes a sync that only rewrites fast chains
	// instead of nft (IPv4 only).
	writer rulesetWriter
	table  string
	cfg    *Config
	v6     bool // family ip6 instead of ip
	// cur is the ruleset of the last apply, kept up to date fragment by
	// fragment (frags, by service port key); gen numbers the updates.
	cur   *ruleset
	frags map[string]*fragment
	gen   uint64
	// synced: the table holds cur (else the next sync is a full one).
	synced bool
}

func newNFTBackend(nft knftables.Interface, cfg *Config, v6 bool) *nftBackend {
	return &nftBackend{nft: nft, table: cfg.TableName, cfg: cfg, v6: v6}
}

// ip is the address expression keyword of the family, addrType its
// address type.
func (b *nftBackend) ip() string {
	if b.v6 {
		return "ip6"
	}
	return "ip"
}

func (b *nftBackend) addrType() string {
	if b.v6 {
		return "ipv6_addr"
	}
	return "ipv4_addr"
}

// hashName gives a chain name that is unique for key and still readable.
func hashName(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	// (nft names cannot hold the colons of IPv6 addresses)
	return prefix + "-" + base32.StdEncoding.EncodeToString(sum[:5]) + "-" + strings.ReplaceAll(key, ":", ".")
}

// newRuleset returns an empty ruleset: no chain, no set, and every map
// and fixed set without elements.
func newRuleset() *ruleset {
	rs := &ruleset{chains: map[string][]string{}, maps: map[string]map[string]string{}, sets: map[string]time.Duration{},
		fast: map[string]*fastChain{}}
	for m := range mapTypes {
		rs.maps[m] = map[string]string{}
	}
	for m := range setTypes {
		rs.maps[m] = map[string]string{}
	}
	return rs
}

// build computes the ruleset for the service ports from scratch (the
// backend keeps its own incrementally; see update).
func (b *nftBackend) build(sps []*servicePort) *ruleset {
	rs := b.fixed()
	b.update(rs, map[string]*fragment{}, sps, false)
	return rs
}

// fixed returns the ruleset without any service port: the base chains
// and the dispatch through the maps, which depend only on the
// configuration.
func (b *nftBackend) fixed() *ruleset {
	masq := fmt.Sprintf("%#x", uint32(1)<<b.cfg.MasqueradeBit)
	rs := newRuleset()
	rs.owners = map[elemID][]owner{}
	ip := b.ip()
	dispatch := ip + " daddr . meta l4proto . th dport vmap @" + mapServiceIPs
	loopback := "127.0.0.0/8"
	if b.v6 {
		loopback = "::1"
	}
	nodePorts := "fib daddr type local " + ip + " daddr != " + loopback + " "
	prefixes, serveNodePorts := b.cfg.nodePortPrefixes(b.v6)
	if len(prefixes) > 0 {
		var ps []string
		for _, p := range prefixes {
			ps = append(ps, p.String())
		}
		nodePorts += ip + " daddr { " + strings.Join(ps, ", ") + " } "
	}
	rs.chains[chainServices] = []string{dispatch}
	if serveNodePorts {
		rs.chains[chainServices] = append(rs.chains[chainServices], nodePorts+"meta l4proto . th dport vmap @"+mapNodePorts)
	}
	rs.chains[chainNATPrerouting] = []string{"jump " + chainServices}
	rs.chains[chainNATOutput] = []string{"jump " + chainServices}
	rs.chains[chainMarkMasq] = []string{"meta mark set meta mark or " + masq}
	rs.chains[chainMasquerading] = []string{
		"ct status dnat " + ip + " saddr . " + ip + " daddr . meta l4proto . th dport @" + setHairpin + " masquerade fully-random",
		"meta mark and " + masq + " == 0 return",
		"meta mark set meta mark xor " + masq,
		"masquerade fully-random",
	}
	rs.chains[chainReject] = []string{"reject"}
	noEP := "ct state new " + ip + " daddr . meta l4proto . th dport vmap @" + mapNoEndpointIPs
	noEPNodePort := "ct state new " + nodePorts + "meta l4proto . th dport vmap @" + mapNoEndpointPorts
	rs.chains[chainFilterInput] = []string{noEP}
	rs.chains[chainFilterForward] = []string{noEP}
	rs.chains[chainFilterOutput] = []string{noEP}
	if serveNodePorts {
		rs.chains[chainFilterInput] = append(rs.chains[chainFilterInput], noEPNodePort)
		rs.chains[chainFilterOutput] = append(rs.chains[chainFilterOutput], noEPNodePort)
	}
	return rs
}

func elemKey(parts ...string) string { return strings.Join(parts, " . ") }

func (b *nftBackend) buildServicePort(sp *servicePort) *fragment {
	f := &fragment{sp: sp}
	key := sp.key()
	port := fmt.Sprint(sp.port)
	if len(sp.endpoints) == 0 {
		// Rejected at once, in the filter chains (nat chains cannot reject).
		verdict := "goto " + chainReject
		f.elem(mapNoEndpointIPs, elemKey(sp.clusterIP.String(), sp.protocol, port), verdict)
		for _, a := range sp.externalIPs {
			f.elem(mapNoEndpointIPs, elemKey(a.String(), sp.protocol, port), verdict)
		}
		if sp.nodePort != 0 {
			f.elem(mapNoEndpointPorts, elemKey(sp.protocol, fmt.Sprint(sp.nodePort)), verdict)
		}
		return f
	}
	svcChain := hashName("svc", key)
	// Internal traffic (to the ClusterIP).
	var rules []string
	cidr := b.cfg.clusterCIDR(b.v6)
	if cidr.IsValid() {
		rules = append(rules, b.ip()+" saddr != "+cidr.String()+" jump "+chainMarkMasq)
	}
	internal := sp.endpoints
	if sp.internalLocal {
		internal = sp.localEndpoints()
	}
	f.chain(svcChain, append(rules, b.dispatch(f, sp, internal)...))
	if sp.affinitySeconds == 0 && (!cidr.IsValid() || cidr.Bits() > 0) {
		f.fast(svcChain, &fastChain{masqFrom: cidr, proto: sp.protocol, eps: internal})
	}
	for _, ep := range sp.localEndpoints() {
		a := ep.addr.String()
		f.elem(setHairpin, elemKey(a, a, sp.protocol, fmt.Sprint(ep.port)), "")
	}
	f.elem(mapServiceIPs, elemKey(sp.clusterIP.String(), sp.protocol, port), "goto "+svcChain)
	if len(sp.externalIPs) == 0 && sp.nodePort == 0 {
		return f
	}
	// External traffic (NodePort, externalIPs, load-balancer IPs).
	extChain := hashName("ext", key)
	var ext []string
	eps := sp.endpoints
	if sp.externalLocal {
		// Traffic from pods and from the node itself is not external: it
		// keeps the Cluster policy, as in Kubernetes.
		if cidr.IsValid() {
			ext = append(ext, b.ip()+" saddr "+cidr.String()+" goto "+svcChain)
		}
		ext = append(ext, "fib saddr type local jump "+chainMarkMasq, "fib saddr type local goto "+svcChain)
		eps = sp.localEndpoints()
	} else {
		ext = append(ext, "jump "+chainMarkMasq)
	}
	f.chain(extChain, append(ext, b.dispatch(f, sp, eps)...))
	if sp.affinitySeconds == 0 && !sp.externalLocal {
		f.fast(extChain, &fastChain{masqAll: true, proto: sp.protocol, eps: eps})
	}
	for _, a := range sp.externalIPs {
		f.elem(mapServiceIPs, elemKey(a.String(), sp.protocol, port), "goto "+extChain)
	}
	if sp.nodePort != 0 {
		f.elem(mapNodePorts, elemKey(sp.protocol, fmt.Sprint(sp.nodePort)), "goto "+extChain)
	}
	return f
}

// dispatch returns the rules that pick one of eps and DNAT to it. Without
// session affinity that is one rule: a DNAT through an inline map indexed
// by a random number (kube-proxy v1.37's nftables mode does the same),
// so a service port costs one chain whatever its endpoint count.
// With affinity each endpoint gets a chain that records the client in a
// dynamic set with timeouts, checked first. With no endpoint (a Local
// policy and none on this node) it drops, as Kubernetes does.
func (b *nftBackend) dispatch(f *fragment, sp *servicePort, eps []endpoint) []string {
	if len(eps) == 0 {
		return []string{"drop"}
	}
	if sp.affinitySeconds == 0 {
		if len(eps) == 1 {
			return []string{fmt.Sprintf("meta l4proto %s dnat to %s", sp.protocol, eps[0])}
		}
		targets := make([]string, len(eps))
		for i, ep := range eps {
			targets[i] = fmt.Sprintf("%d : %s . %d", i, ep.addr, ep.port)
		}
		// (spaced commas: knftables.Fake splits rules at spaces)
		return []string{fmt.Sprintf("meta l4proto %s dnat %s to numgen random mod %d map { %s }", sp.protocol, b.ip(), len(eps), strings.Join(targets, " , "))}
	}
	var rules, targets []string
	for i, ep := range eps {
		epKey := sp.key() + "__" + ep.addr.String() + "/" + fmt.Sprint(ep.port)
		chain := hashName("ep", epKey)
		// (the timeout is part of the set's name: a set's timeout cannot
		// change in place, so a new timeout makes a new set)
		set := hashName("aff", fmt.Sprintf("%s/%ds", epKey, sp.affinitySeconds))
		f.set(set, time.Duration(sp.affinitySeconds)*time.Second)
		rules = append(rules, b.ip()+" saddr @"+set+" goto "+chain)
		f.chain(chain, []string{
			"update @" + set + " { " + b.ip() + " saddr }",
			fmt.Sprintf("meta l4proto %s dnat to %s", sp.protocol, ep),
		})
		targets = append(targets, fmt.Sprintf("%d : goto %s", i, chain))
	}
	if len(eps) == 1 {
		return append(rules, "goto "+hashName("ep", sp.key()+"__"+eps[0].addr.String()+"/"+fmt.Sprint(eps[0].port)))
	}
	return append(rules, fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(targets, " , ")))
}

// apply programs the service ports: it updates the ruleset for the ports
// that changed since the last apply and syncs what that changed (all of
// it after a failure).
func (b *nftBackend) apply(ctx context.Context, sps []*servicePort) (int, error) {
	if b.cur == nil {
		b.cur, b.frags = b.fixed(), map[string]*fragment{}
	}
	before, after := b.update(b.cur, b.frags, sps, b.synced)
	if !b.synced {
		return b.sync(ctx, nil, b.cur)
	}
	return b.sync(ctx, before, after)
}

// sync programs rs in one transaction: with old nil, all of it, removing
// whatever else the table holds (the first sync, and after a failure);
// otherwise only the difference from old (old and rs may be parts of the
// rulesets, holding the same names). Returns the number of operations
// sent.
func (b *nftBackend) sync(ctx context.Context, old, rs *ruleset) (int, error) {
	full := old == nil
	if !full && b.writer != nil && !b.v6 {
		if chains, ok := fastChanges(old, rs); ok && len(chains) > 0 {
			b.synced = false
			if err := b.writer.rewrite(b.table, chains); err != nil {
				return len(chains), fmt.Errorf("nftables sync of table %s: %w", b.table, err)
			}
			b.synced = true
			return len(chains), nil
		}
	}
	tx := b.nft.NewTransaction()
	if full {
		// The fixed objects are (re)declared only on a full sync: adding
		// an existing base chain or map again changes nothing, but costs
		// nft a look at the whole table. An incremental sync that fails
		// because one went missing is followed by a full one.
		tx.Add(&knftables.Table{Comment: knftables.PtrTo("rules of the setpoint node proxy")})
		for _, bc := range baseChains {
			tx.Add(&knftables.Chain{Name: bc.name, Type: knftables.PtrTo(bc.typ), Hook: knftables.PtrTo(bc.hook), Priority: knftables.PtrTo(bc.priority)})
		}
		for _, name := range slices.Sorted(maps.Keys(mapTypes)) {
			tx.Add(&knftables.Map{Name: name, Type: strings.Replace(mapTypes[name], "ipv4_addr", b.addrType(), 1)})
		}
		for _, name := range slices.Sorted(maps.Keys(setTypes)) {
			tx.Add(&knftables.Set{Name: name, Type: strings.ReplaceAll(setTypes[name], "ipv4_addr", b.addrType())})
		}
		var err error
		if old, err = b.existing(ctx); err != nil {
			return 0, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(rs.sets)) {
		if _, ok := old.sets[name]; !ok {
			tx.Add(&knftables.Set{Name: name, Type: b.addrType(), Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
				Timeout: knftables.PtrTo(rs.sets[name])})
		}
	}
	names := slices.Sorted(maps.Keys(rs.chains))
	for _, name := range names {
		if _, ok := old.chains[name]; !ok && !isBase(name) {
			tx.Add(&knftables.Chain{Name: name})
		}
	}
	for _, name := range names {
		prev, ok := old.chains[name]
		if ok && !full && slices.Equal(prev, rs.chains[name]) {
			continue
		}
		if ok {
			tx.Flush(&knftables.Chain{Name: name})
		}
		for _, r := range rs.chains[name] {
			tx.Add(&knftables.Rule{Chain: name, Rule: r})
		}
	}
	for _, m := range slices.Sorted(maps.Keys(rs.maps)) {
		want, have := rs.maps[m], old.maps[m]
		_, isSet := setTypes[m]
		if full {
			if isSet {
				tx.Flush(&knftables.Set{Name: m})
			} else {
				tx.Flush(&knftables.Map{Name: m})
			}
			have = nil
		}
		elem := func(k string) *knftables.Element {
			if isSet {
				return &knftables.Element{Set: m, Key: strings.Split(k, " . ")}
			}
			return &knftables.Element{Map: m, Key: strings.Split(k, " . "), Value: []string{want[k]}}
		}
		for _, k := range slices.Sorted(maps.Keys(have)) {
			if v, ok := want[k]; !ok || v != have[k] {
				e := elem(k)
				e.Value = nil
				tx.Delete(e)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if v, ok := have[k]; !ok || v != want[k] {
				tx.Add(elem(k))
			}
		}
	}
	var stale []string
	for name := range old.chains {
		if _, ok := rs.chains[name]; !ok && !isBase(name) {
			stale = append(stale, name)
		}
	}
	slices.Sort(stale)
	for _, name := range stale {
		tx.Flush(&knftables.Chain{Name: name})
	}
	for _, name := range stale {
		tx.Delete(&knftables.Chain{Name: name})
	}
	for _, name := range slices.Sorted(maps.Keys(old.sets)) {
		if _, ok := rs.sets[name]; !ok {
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	if tx.NumOperations() == 0 {
		b.synced = true // nothing changed: no nft process at all
		return 0, nil
	}
	b.synced = false
	if err := b.nft.Run(ctx, tx); err != nil {
		return tx.NumOperations(), fmt.Errorf("nftables sync of table %s: %w", b.table, err)
	}
	b.synced = true
	return tx.NumOperations(), nil
}

// fastChanges returns the chains of rs whose rules differ from old's, if
// that is all that differs (the same chains, map elements and sets) and
// every one of them is a fast chain.
func fastChanges(old, rs *ruleset) (map[string]*fastChain, bool) {
	if len(old.chains) != len(rs.chains) || len(old.sets) != len(rs.sets) || len(old.maps) != len(rs.maps) {
		return nil, false
	}
	for name := range rs.sets {
		if _, ok := old.sets[name]; !ok {
			return nil, false
		}
	}
	for m, want := range rs.maps {
		if !maps.Equal(want, old.maps[m]) {
			return nil, false
		}
	}
	out := map[string]*fastChain{}
	for name, rules := range rs.chains {
		prev, ok := old.chains[name]
		if !ok {
			return nil, false
		}
		if slices.Equal(prev, rules) {
			continue
		}
		fc := rs.fast[name]
		if fc == nil {
			return nil, false
		}
		out[name] = fc
	}
	return out, true
}

func isBase(name string) bool {
	for _, bc := range baseChains {
		if bc.name == name {
			return true
		}
	}
	return false
}

// existing reads the names of the chains and sets already in the table (a
// previous run's), so a full sync can remove what is no longer wanted
// while keeping affinity sets (their clients stay pinned across restarts).
func (b *nftBackend) existing(ctx context.Context) (*ruleset, error) {
	rs := &ruleset{chains: map[string][]string{}, maps: map[string]map[string]string{}, sets: map[string]time.Duration{}}
	chains, err := b.nft.List(ctx, "chains")
	if err != nil && !knftables.IsNotFound(err) {
		return nil, fmt.Errorf("list chains of table %s: %w", b.table, err)
	}
	for _, c := range chains {
		rs.chains[c] = nil
	}
	sets, err := b.nft.List(ctx, "sets")
	if err != nil && !knftables.IsNotFound(err) {
		return nil, fmt.Errorf("list sets of table %s: %w", b.table, err)
	}
	for _, s := range sets {
		if _, fixed := setTypes[s]; !fixed {
			rs.sets[s] = 0
		}
	}
	return rs, nil
}

// cleanup deletes the table and everything in it.
func (b *nftBackend) cleanup(ctx context.Context) error {
	b.synced = false
	tx := b.nft.NewTransaction()
	tx.Delete(&knftables.Table{})
	if err := b.nft.Run(ctx, tx); err != nil && !knftables.IsNotFound(err) {
		return fmt.Errorf("delete table %s: %w", b.table, err)
	}
	return nil
}
