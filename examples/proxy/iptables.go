package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// iptTables are the iptables tables the proxy writes chains into.
var iptTables = []string{"nat", "filter"}

// iptJump is a rule in a built-in chain that jumps to one of ours.
type iptJump struct{ table, chain, target string }

// iptBackend programs the ruleset through iptables-restore (or
// ip6tables-restore): every sync is ONE restore input in --noflush mode
// that declares (and so flushes) the chains that changed, refills them and
// deletes the stale ones. Only chains whose names start with the backend's
// prefix are touched; the built-in chains get one jump rule each, kept by
// go-iptables' check-then-insert.
type iptBackend struct {
	cfg     *Config
	ipt     *iptables.IPTables
	v6      bool
	restore string
	prefix  string
	// last is what the last successful sync wrote, per table and chain;
	// nil: unknown, the next sync is a full one.
	last map[string]map[string][]string
}

// iptPrefix is the chain-name prefix for a table name: "SP" and four
// characters of the name's hash, so that two proxies with different
// TableNames (two nodes of one host) never share chains.
func iptPrefix(table string) string {
	sum := sha256.Sum256([]byte(table))
	return "SP" + base32.StdEncoding.EncodeToString(sum[:5])[:4]
}

func newIPTBackend(cfg *Config, v6 bool) (*iptBackend, error) {
	proto, restore := iptables.ProtocolIPv4, "iptables-restore"
	if v6 {
		proto, restore = iptables.ProtocolIPv6, "ip6tables-restore"
	}
	ipt, err := iptables.New(iptables.IPFamily(proto))
	if err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	if _, err := exec.LookPath(restore); err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	return &iptBackend{cfg: cfg, ipt: ipt, v6: v6, restore: restore, prefix: iptPrefix(cfg.TableName)}, nil
}

func (b *iptBackend) chain(kind string) string { return b.prefix + "-" + kind }

// hashChain names the chain of kind for key: 12 characters of its hash, so
// it stays within iptables' 28-character limit.
func (b *iptBackend) hashChain(kind, key string) string {
	sum := sha256.Sum256([]byte(key))
	return b.prefix + "-" + kind + "-" + base32.StdEncoding.EncodeToString(sum[:10])[:12]
}

func (b *iptBackend) jumps() []iptJump {
	return []iptJump{
		{"nat", "PREROUTING", b.chain("SERVICES")},
		{"nat", "OUTPUT", b.chain("SERVICES")},
		{"nat", "POSTROUTING", b.chain("POSTROUTING")},
		{"filter", "INPUT", b.chain("FILTER")},
		{"filter", "FORWARD", b.chain("FILTER")},
		{"filter", "OUTPUT", b.chain("FILTER")},
	}
}

func (b *iptBackend) jumpSpec(j iptJump) []string {
	return []string{"-m", "comment", "--comment", "setpoint proxy " + b.cfg.TableName, "-j", j.target}
}

func (b *iptBackend) host(a string) string {
	if b.v6 {
		return a + "/128"
	}
	return a + "/32"
}

func (b *iptBackend) loopback() string {
	if b.v6 {
		return "::1/128"
	}
	return "127.0.0.0/8"
}

// build computes the chains (per table) for the service ports.
func (b *iptBackend) build(sps []*servicePort) map[string]map[string][]string {
	nat, filter := map[string][]string{}, map[string][]string{}
	masq := fmt.Sprintf("%#x", uint32(1)<<b.cfg.MasqueradeBit)
	services, nodePorts, markMasq := b.chain("SERVICES"), b.chain("NODEPORTS"), b.chain("MARK-MASQ")
	nat[markMasq] = []string{"-j MARK --or-mark " + masq}
	nat[b.chain("POSTROUTING")] = []string{
		"-m mark ! --mark " + masq + "/" + masq + " -j RETURN",
		"-j MARK --xor-mark " + masq,
		"-j MASQUERADE --random-fully",
	}
	var localDsts []string
	prefixes, serve := b.cfg.nodePortPrefixes(b.v6)
	if serve && len(prefixes) == 0 {
		localDsts = []string{"-m addrtype --dst-type LOCAL ! -d " + b.loopback()}
	}
	for _, p := range prefixes {
		localDsts = append(localDsts, "-d "+p.String()+" -m addrtype --dst-type LOCAL")
	}
	cidr := b.cfg.clusterCIDR(b.v6)
	nat[nodePorts] = nil
	filter[b.chain("FILTER")] = nil
	var svcRules []string
	reject := func(dst, proto string, port int32, target string) {
		filter[b.chain("FILTER")] = append(filter[b.chain("FILTER")],
			fmt.Sprintf("%s -p %s -m %s --dport %d -m conntrack --ctstate NEW -j %s", dst, proto, proto, port, target))
	}
	for _, sp := range sps {
		match := func(a string) string {
			return fmt.Sprintf("-d %s -p %s -m %s --dport %d", b.host(a), sp.protocol, sp.protocol, sp.port)
		}
		comment := fmt.Sprintf("-m comment --comment %s/%s:%s ", sp.namespace, sp.name, sp.portName)
		if len(sp.endpoints) == 0 {
			// Rejected at once, in the filter table (nat cannot reject).
			for _, a := range append([]string{sp.clusterIP.String()}, addrStrings(sp.externalIPs)...) {
				reject("-d "+b.host(a), sp.protocol, sp.port, "REJECT")
			}
			if sp.nodePort != 0 {
				for _, d := range localDsts {
					reject(d, sp.protocol, sp.nodePort, "REJECT")
				}
			}
			continue
		}
		key := sp.key()
		svcChain := b.hashChain("SVC", key)
		var rules []string
		if cidr.IsValid() {
			rules = append(rules, "! -s "+cidr.String()+" -j "+markMasq)
		}
		internal := sp.endpoints
		if sp.internalLocal {
			internal = sp.localEndpoints()
		}
		if len(internal) == 0 {
			reject("-d "+b.host(sp.clusterIP.String()), sp.protocol, sp.port, "DROP")
		}
		nat[svcChain] = append(rules, b.dispatch(nat, sp, internal)...)
		svcRules = append(svcRules, comment+match(sp.clusterIP.String())+" -j "+svcChain)
		if len(sp.externalIPs) == 0 && sp.nodePort == 0 {
			continue
		}
		extChain := b.hashChain("EXT", key)
		var ext []string
		eps := sp.endpoints
		if sp.externalLocal {
			if cidr.IsValid() {
				ext = append(ext, "-s "+cidr.String()+" -j "+svcChain)
			}
			ext = append(ext, "-m addrtype --src-type LOCAL -j "+markMasq, "-m addrtype --src-type LOCAL -j "+svcChain)
			eps = sp.localEndpoints()
		} else {
			ext = append(ext, "-j "+markMasq)
		}
		if len(eps) == 0 {
			// Not DNATed: the filter table drops it (nat cannot).
			for _, a := range addrStrings(sp.externalIPs) {
				reject("-d "+b.host(a), sp.protocol, sp.port, "DROP")
			}
			if sp.nodePort != 0 {
				for _, d := range localDsts {
					reject(d, sp.protocol, sp.nodePort, "DROP")
				}
			}
		}
		nat[extChain] = append(ext, b.dispatch(nat, sp, eps)...)
		for _, a := range addrStrings(sp.externalIPs) {
			svcRules = append(svcRules, comment+match(a)+" -j "+extChain)
		}
		if sp.nodePort != 0 {
			nat[nodePorts] = append(nat[nodePorts], fmt.Sprintf("%s-p %s -m %s --dport %d -j %s", comment, sp.protocol, sp.protocol, sp.nodePort, extChain))
		}
	}
	for _, d := range localDsts {
		svcRules = append(svcRules, d+" -j "+nodePorts)
	}
	nat[services] = svcRules
	return map[string]map[string][]string{"nat": nat, "filter": filter}
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// dispatch returns the rules that pick one of eps: a recent-module check
// per endpoint for session affinity, then statistic-module rules that give
// each remaining endpoint an equal share, as kube-proxy's iptables mode
// does. It adds the endpoint chains to nat. No endpoint: no rule (the
// filter table drops the traffic).
func (b *iptBackend) dispatch(nat map[string][]string, sp *servicePort, eps []endpoint) []string {
	var rules []string
	chains := make([]string, len(eps))
	for i, ep := range eps {
		chain := b.hashChain("SEP", sp.key()+"__"+ep.String())
		chains[i] = chain
		if sp.affinitySeconds > 0 {
			rules = append(rules, fmt.Sprintf("-m recent --name %s --rcheck --seconds %d --reap -j %s", chain, sp.affinitySeconds, chain))
		}
		if _, done := nat[chain]; done {
			continue
		}
		epRules := []string{"-s " + b.host(ep.addr.String()) + " -j " + b.chain("MARK-MASQ")} // hairpin
		set := ""
		if sp.affinitySeconds > 0 {
			set = "-m recent --name " + chain + " --set "
		}
		nat[chain] = append(epRules, fmt.Sprintf("-p %s %s-j DNAT --to-destination %s", sp.protocol, set, ep))
	}
	for i, chain := range chains {
		if i == len(chains)-1 {
			rules = append(rules, "-j "+chain)
		} else {
			rules = append(rules, fmt.Sprintf("-m statistic --mode random --probability %.10f -j %s", 1/float64(len(chains)-i), chain))
		}
	}
	return rules
}

// apply programs the service ports: one restore input with what changed
// (everything on the first sync and after a failure), then the jumps from
// the built-in chains. Returns the number of chains written or deleted.
func (b *iptBackend) apply(ctx context.Context, sps []*servicePort) (int, error) {
	want := b.build(sps)
	old := b.last
	full := old == nil
	if full {
		var err error
		if old, err = b.existing(); err != nil {
			return 0, err
		}
	}
	b.last = nil
	in, ops := restoreInput(want, old, full)
	if err := b.runRestore(ctx, in); err != nil {
		return ops, err
	}
	for _, j := range b.jumps() {
		if err := b.ipt.InsertUnique(j.table, j.chain, 1, b.jumpSpec(j)...); err != nil {
			return ops, fmt.Errorf("iptables: jump from %s %s: %w", j.table, j.chain, err)
		}
	}
	b.last = want
	return ops, nil
}

// restoreInput returns the one iptables-restore input (for --noflush) that
// turns the chains of old into those of want: each chain to write is
// declared (which flushes it) and refilled, each stale one declared and
// deleted, one COMMIT per table. full writes every chain of want; else
// only those that differ from old. It also returns the number of chains
// written or deleted.
func restoreInput(want, old map[string]map[string][]string, full bool) ([]byte, int) {
	var in bytes.Buffer
	ops := 0
	for _, table := range iptTables {
		fmt.Fprintf(&in, "*%s\n", table)
		var write, stale []string
		for _, name := range slices.Sorted(maps.Keys(want[table])) {
			prev, ok := old[table][name]
			if full || !ok || !slices.Equal(prev, want[table][name]) {
				write = append(write, name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(old[table])) {
			if _, ok := want[table][name]; !ok {
				stale = append(stale, name)
			}
		}
		for _, name := range append(slices.Clone(write), stale...) {
			fmt.Fprintf(&in, ":%s - [0:0]\n", name) // declaring flushes it
		}
		for _, name := range write {
			for _, r := range want[table][name] {
				fmt.Fprintf(&in, "-A %s %s\n", name, r)
			}
		}
		for _, name := range stale {
			fmt.Fprintf(&in, "-X %s\n", name)
		}
		in.WriteString("COMMIT\n")
		ops += len(write) + len(stale)
	}
	return in.Bytes(), ops
}

func (b *iptBackend) runRestore(ctx context.Context, in []byte) error {
	cmd := exec.CommandContext(ctx, b.restore, "-w", "--noflush")
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", b.restore, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// existing returns the chains of ours already present (a previous run's),
// with unknown content.
func (b *iptBackend) existing() (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for _, table := range iptTables {
		out[table] = map[string][]string{}
		chains, err := b.ipt.ListChains(table)
		if err != nil {
			return nil, fmt.Errorf("iptables: list chains of %s: %w", table, err)
		}
		for _, c := range chains {
			if strings.HasPrefix(c, b.prefix+"-") {
				out[table][c] = nil
			}
		}
	}
	return out, nil
}

// cleanup removes the jumps and every chain of ours.
func (b *iptBackend) cleanup(ctx context.Context) error {
	b.last = nil
	for _, j := range b.jumps() {
		// (a jump to a chain that is gone cannot exist; iptables -C
		// would fail on the missing target)
		if ok, err := b.ipt.ChainExists(j.table, j.target); err != nil {
			return fmt.Errorf("iptables: %w", err)
		} else if !ok {
			continue
		}
		if err := b.ipt.DeleteIfExists(j.table, j.chain, b.jumpSpec(j)...); err != nil {
			return fmt.Errorf("iptables: remove jump from %s %s: %w", j.table, j.chain, err)
		}
	}
	have, err := b.existing()
	if err != nil {
		return err
	}
	var in bytes.Buffer
	for _, table := range iptTables {
		names := slices.Sorted(maps.Keys(have[table]))
		fmt.Fprintf(&in, "*%s\n", table)
		for _, n := range names {
			fmt.Fprintf(&in, ":%s - [0:0]\n", n)
		}
		for _, n := range names {
			fmt.Fprintf(&in, "-X %s\n", n)
		}
		in.WriteString("COMMIT\n")
	}
	return b.runRestore(ctx, in.Bytes())
}
