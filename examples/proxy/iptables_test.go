package proxy_test

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/proxy"
)

// restoreTable is one table block of an iptables-restore input.
type restoreTable struct {
	declared map[string]int      // chain -> times declared
	rules    map[string][]string // chain -> its -A rules, in order
	deleted  []string
	commits  int
}

// parseRestore parses an iptables-restore input strictly: a table starts
// with *name and ends with COMMIT; inside, only chain declarations, -A
// and -X lines. It returns the tables in order.
func parseRestore(t *testing.T, in string) ([]string, map[string]*restoreTable) {
	t.Helper()
	var order []string
	tables := map[string]*restoreTable{}
	var cur *restoreTable
	for i, line := range strings.Split(strings.TrimSuffix(in, "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "*"):
			if cur != nil {
				t.Fatalf("line %d: table %s starts before the previous one's COMMIT", i+1, line)
			}
			name := line[1:]
			if tables[name] != nil {
				t.Fatalf("line %d: table %s appears twice", i+1, name)
			}
			cur = &restoreTable{declared: map[string]int{}, rules: map[string][]string{}}
			tables[name] = cur
			order = append(order, name)
		case cur == nil:
			t.Fatalf("line %d outside a table: %q", i+1, line)
		case line == "COMMIT":
			cur.commits++
			cur = nil
		case strings.HasPrefix(line, ":") && len(f) == 3 && f[1] == "-" && f[2] == "[0:0]":
			cur.declared[line[1:strings.IndexByte(line, ' ')]]++
		case len(f) >= 3 && f[0] == "-A":
			cur.rules[f[1]] = append(cur.rules[f[1]], strings.Join(f[2:], " "))
		case len(f) == 2 && f[0] == "-X":
			cur.deleted = append(cur.deleted, f[1])
		default:
			t.Fatalf("line %d: unexpected %q", i+1, line)
		}
	}
	if cur != nil {
		t.Fatal("input ends without COMMIT")
	}
	return order, tables
}

var jumpRE = regexp.MustCompile(`-j (\S+)`)

// checkRestore checks the structure of one input against the chains of
// ours that exist before it (updated to those after it): tables nat and
// filter, one COMMIT each, each chain declared once, rules only in
// declared chains, deleted chains declared and empty, chain names within
// iptables' 28 characters, and every jump to an existing chain of ours or
// to a standard target.
func checkRestore(t *testing.T, in, prefix string, existing map[string]map[string]bool) map[string]*restoreTable {
	t.Helper()
	order, tables := parseRestore(t, in)
	if !slices.Equal(order, []string{"nat", "filter"}) {
		t.Fatalf("tables %v, want [nat filter]", order)
	}
	standard := map[string]bool{"MARK": true, "MASQUERADE": true, "DNAT": true, "REJECT": true, "DROP": true, "RETURN": true}
	for _, name := range order {
		tb := tables[name]
		if tb.commits != 1 {
			t.Errorf("table %s: %d COMMITs", name, tb.commits)
		}
		if existing[name] == nil {
			existing[name] = map[string]bool{}
		}
		for c, n := range tb.declared {
			if n != 1 {
				t.Errorf("table %s: chain %s declared %d times", name, c, n)
			}
			if !strings.HasPrefix(c, prefix+"-") || len(c) > 28 {
				t.Errorf("table %s: chain %q is not ours or longer than 28 characters", name, c)
			}
			existing[name][c] = true
		}
		for c := range tb.rules {
			if tb.declared[c] == 0 {
				t.Errorf("table %s: rules appended to undeclared chain %s", name, c)
			}
		}
		for _, c := range tb.deleted {
			if tb.declared[c] == 0 || len(tb.rules[c]) > 0 {
				t.Errorf("table %s: chain %s deleted without being declared (flushed) first, or refilled", name, c)
			}
			delete(existing[name], c)
		}
		for c, rules := range tb.rules {
			for _, r := range rules {
				m := jumpRE.FindStringSubmatch(r)
				if m == nil {
					t.Errorf("table %s chain %s: rule without target: %s", name, c, r)
					continue
				}
				if !standard[m[1]] && !existing[name][m[1]] {
					t.Errorf("table %s chain %s: jump to missing chain %s", name, c, m[1])
				}
			}
		}
	}
	return tables
}

// target returns the -j target of the one rule of chain containing match.
func target(t *testing.T, tb *restoreTable, chain, match string) string {
	t.Helper()
	var out []string
	for _, r := range tb.rules[chain] {
		if strings.Contains(r, match) {
			out = append(out, jumpRE.FindStringSubmatch(r)[1])
		}
	}
	if len(out) != 1 {
		t.Fatalf("chain %s: %d rules match %q, want 1:\n%s", chain, len(out), match, strings.Join(tb.rules[chain], "\n"))
	}
	return out[0]
}

var probRE = regexp.MustCompile(`--probability (\S+)`)

// dispatchOf returns the probabilities of a service chain's statistic
// rules and the DNAT destinations of its endpoint chains (those in this
// input), in order.
func dispatchOf(t *testing.T, nat *restoreTable, chain string) (probs []float64, dsts []string) {
	t.Helper()
	for _, r := range nat.rules[chain] {
		if strings.Contains(r, "-m recent") || strings.Contains(r, "MARK-MASQ") || strings.Contains(r, "--src-type LOCAL") || strings.HasPrefix(r, "-s ") {
			continue
		}
		if m := probRE.FindStringSubmatch(r); m != nil {
			p, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			probs = append(probs, p)
		}
		sep := jumpRE.FindStringSubmatch(r)[1]
		if _, written := nat.rules[sep]; !written {
			continue // (unchanged, not in an incremental input)
		}
		target(t, nat, sep, "-j DNAT") // exactly one DNAT per endpoint chain
		for _, er := range nat.rules[sep] {
			if i := strings.Index(er, "--to-destination "); i >= 0 {
				dsts = append(dsts, er[i+len("--to-destination "):])
			}
		}
	}
	return probs, dsts
}

func wantProbs(t *testing.T, what string, got []float64, n int) {
	t.Helper()
	// kube-proxy's iptables mode: 1/n, 1/(n-1), ..., 1/2, then the last
	// endpoint unconditionally, so that each gets an equal share.
	if len(got) != n-1 {
		t.Fatalf("%s: probabilities %v, want %d of them", what, got, n-1)
	}
	for i, p := range got {
		if want := 1 / float64(n-i); math.Abs(p-want) > 1e-9 {
			t.Errorf("%s: probability %d = %v, want 1/%d", what, i, p, n-i)
		}
	}
}

// TestIPTablesRestoreInput checks the iptables-restore input of the
// iptables mode for a set of services, without root: its structure, and
// the rules kube-proxy's iptables mode would have for each behaviour.
func TestIPTablesRestoreInput(t *testing.T) {
	cfg := proxy.Config{NodeName: "node1", TableName: "t1"}
	prefix := proxy.IPTPrefix("t1")
	onNode2 := func(s *discovery.EndpointSlice, idx ...int) *discovery.EndpointSlice {
		for _, i := range idx {
			s.Endpoints[i].NodeName = ptr("node2")
		}
		return s
	}
	web := service("web", "10.96.0.10", 30080)
	sticky := service("sticky", "10.96.0.11", 0, func(s *api.Service) {
		s.Spec.SessionAffinity = api.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIP: &api.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
	})
	empty := service("empty", "10.96.0.12", 30082)
	local := service("local", "10.96.0.13", 30083, func(s *api.Service) {
		s.Spec.ExternalTrafficPolicy = api.ServiceExternalTrafficPolicyLocal
	})
	webSlice := slice("web", ep{"10.244.1.2", true}, ep{"10.244.2.2", true}, ep{"10.244.3.2", true}, ep{"10.244.4.2", false})
	first := proxy.IPTState{
		Services: []*api.Service{web, sticky, empty, local},
		Slices: []*discovery.EndpointSlice{webSlice,
			slice("sticky", ep{"10.244.5.2", true}, ep{"10.244.6.2", true}),
			onNode2(slice("local", ep{"10.244.7.2", true}, ep{"10.244.8.2", true}, ep{"10.244.9.2", true}, ep{"10.244.10.2", true}), 2, 3)},
	}
	// Then: web loses an endpoint, sticky is deleted.
	second := proxy.IPTState{Services: []*api.Service{web, empty, local},
		Slices: []*discovery.EndpointSlice{slice("web", ep{"10.244.1.2", true}, ep{"10.244.2.2", true}), first.Slices[2]}}
	inputs := proxy.IPTablesRestoreInputs(cfg, first, second, second)

	existing := map[string]map[string]bool{}
	tables := checkRestore(t, inputs[0], prefix, existing)
	nat, filter := tables["nat"], tables["filter"]
	services, nodePorts, markMasq := prefix+"-SERVICES", prefix+"-NODEPORTS", prefix+"-MARK-MASQ"

	// ClusterIP: three ready endpoints, equal shares; the not-ready one is left out.
	webSvc := target(t, nat, services, "-d 10.96.0.10/32 -p tcp -m tcp --dport 80")
	probs, dsts := dispatchOf(t, nat, webSvc)
	wantProbs(t, "web", probs, 3)
	if want := []string{"10.244.1.2:8080", "10.244.2.2:8080", "10.244.3.2:8080"}; !slices.Equal(dsts, want) {
		t.Errorf("web endpoints %v, want %v", dsts, want)
	}
	// NodePort, Cluster policy: the external chain masquerades, then
	// dispatches over every endpoint.
	webExt := target(t, nat, nodePorts, "--dport 30080")
	if r := nat.rules[webExt]; len(r) == 0 || r[0] != "-j "+markMasq {
		t.Errorf("web external chain does not start by marking for masquerade: %v", r)
	}
	probs, _ = dispatchOf(t, nat, webExt)
	wantProbs(t, "web external", probs, 3)

	// Session affinity: a recent-module check per endpoint first, and
	// each endpoint chain records the client.
	stickySvc := target(t, nat, services, "-d 10.96.0.11/32")
	rules := nat.rules[stickySvc]
	for i := range 2 {
		sep := jumpRE.FindStringSubmatch(rules[i])[1]
		if want := "-m recent --name " + sep + " --rcheck --seconds 60 --reap -j " + sep; rules[i] != want {
			t.Errorf("sticky rule %d = %q, want %q", i, rules[i], want)
		}
		if !slices.ContainsFunc(nat.rules[sep], func(r string) bool { return strings.Contains(r, "-m recent --name "+sep+" --set") }) {
			t.Errorf("endpoint chain %s does not record the client: %v", sep, nat.rules[sep])
		}
	}
	probs, _ = dispatchOf(t, nat, stickySvc)
	wantProbs(t, "sticky", probs, 2)

	// No endpoints: rejected from the filter table (ClusterIP and
	// NodePort), and no service rule.
	for _, m := range []string{"-d 10.96.0.12/32 -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW", "--dport 30082 -m conntrack --ctstate NEW"} {
		if got := target(t, filter, prefix+"-FILTER", m); got != "REJECT" {
			t.Errorf("service without endpoints: %s -> %s, want REJECT", m, got)
		}
	}
	if slices.ContainsFunc(nat.rules[services], func(r string) bool { return strings.Contains(r, "10.96.0.12") }) {
		t.Error("a service without endpoints has a nat rule")
	}

	// externalTrafficPolicy Local: ClusterIP traffic uses all four
	// endpoints; NodePort traffic only this node's two, keeps the client
	// address (no unconditional masquerade), and local sources keep the
	// Cluster policy.
	localSvc := target(t, nat, services, "-d 10.96.0.13/32")
	probs, dsts = dispatchOf(t, nat, localSvc)
	wantProbs(t, "local (cluster)", probs, 4)
	if len(dsts) != 4 {
		t.Errorf("local service's cluster chain has endpoints %v, want 4", dsts)
	}
	localExt := target(t, nat, nodePorts, "--dport 30083")
	if slices.Contains(nat.rules[localExt], "-j "+markMasq) {
		t.Errorf("Local policy masquerades every client: %v", nat.rules[localExt])
	}
	if target(t, nat, localExt, "--src-type LOCAL -j "+localSvc) != localSvc {
		t.Error("local sources do not keep the Cluster policy")
	}
	probs, dsts = dispatchOf(t, nat, localExt)
	wantProbs(t, "local (external)", probs, 2)
	if want := []string{"10.244.7.2:8080", "10.244.8.2:8080"}; !slices.Equal(dsts, want) {
		t.Errorf("Local policy endpoints %v, want this node's %v", dsts, want)
	}

	// The incremental input rewrites web's chains, deletes sticky's and
	// the removed endpoint's, and leaves the rest alone.
	tables = checkRestore(t, inputs[1], prefix, existing)
	nat = tables["nat"]
	if nat.declared[webSvc] != 1 {
		t.Errorf("web's service chain not rewritten")
	}
	probs, _ = dispatchOf(t, nat, webSvc)
	wantProbs(t, "web after the change", probs, 2)
	for _, c := range []string{localSvc, localExt} {
		if nat.declared[c] != 0 {
			t.Errorf("unchanged chain %s rewritten", c)
		}
	}
	if !slices.Contains(nat.deleted, stickySvc) {
		t.Errorf("the deleted service's chain %s is not deleted: %v", stickySvc, nat.deleted)
	}
	if len(nat.deleted) != 4 { // sticky's service chain and two endpoint chains, web's third endpoint
		t.Errorf("deleted chains %v, want 4", nat.deleted)
	}
	// A sync with nothing changed writes nothing but the table frames.
	if want := "*nat\nCOMMIT\n*filter\nCOMMIT\n"; inputs[2] != want {
		t.Errorf("no-op sync input:\n%s\nwant:\n%s", inputs[2], want)
	}
}
