package containerdtest

import (
	"fmt"
	"os/exec"
	"strings"
)

// The CNI portmap plugin (host ports) creates the nat tables of iptables-nft
// with its CNI-HOSTPORT-* chains on first use and never removes them, even
// once every mapping is gone. A Daemon notes which nat tables existed when
// it started and, when it stops, deletes those it finds that did not and
// that hold nothing but that skeleton, so a test run leaves no rules behind
// (and never touches tables that were there before, or that still map a
// port: a CNI-DN-* chain is an active mapping).

// natTables returns the nat tables that exist now ("ip nat", "ip6 nat");
// nil when nft cannot be run.
func natTables() map[string]bool {
	out, err := exec.Command("nft", "list", "tables").Output()
	if err != nil {
		return nil
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(l), "table "); ok && strings.HasSuffix(t, " nat") {
			have[t] = true
		}
	}
	return have
}

// portmapSkeleton are the chains of a nat table that portmap created and
// that maps nothing.
var portmapSkeleton = map[string]bool{
	"CNI-HOSTPORT-SETMARK": true, "CNI-HOSTPORT-MASQ": true, "CNI-HOSTPORT-DNAT": true,
	"PREROUTING": true, "POSTROUTING": true, "OUTPUT": true, "INPUT": true,
}

// removeNewNATTables deletes the idle portmap nat tables absent from before.
func removeNewNATTables(before map[string]bool) error {
	if before == nil {
		return nil
	}
	for t := range natTables() {
		if before[t] {
			continue
		}
		fam, _, _ := strings.Cut(t, " ")
		out, err := exec.Command("nft", "list", "table", fam, "nat").Output()
		if err != nil || !idlePortmapTable(string(out)) {
			continue
		}
		if out, err := exec.Command("nft", "delete", "table", fam, "nat").CombinedOutput(); err != nil {
			return fmt.Errorf("containerdtest: deleting the portmap table %s: %v: %s", t, err, out)
		}
	}
	return nil
}

// idlePortmapTable reports whether listing (nft list table output) holds
// only portmap's skeleton chains and no port mapping.
func idlePortmapTable(listing string) bool {
	for _, l := range strings.Split(listing, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "chain" && !portmapSkeleton[f[1]] {
			return false
		}
		if strings.Contains(l, "CNI-DN-") {
			return false
		}
	}
	return true
}
