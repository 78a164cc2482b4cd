package proxy

import (
	"sigs.k8s.io/knftables"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// UseNFT makes p program nft (a knftables.Fake in tests) instead of the host.
func UseNFT(p *Proxy, nft knftables.Interface) {
	p.newNFT = func(bool) (knftables.Interface, error) { return nft, nil }
	p.writer = nil
}

// IPTPrefix is the prefix of the iptables chains of the proxy with table name table.
func IPTPrefix(table string) string { return iptPrefix(table) }

// IPTablesRestoreInputs returns the iptables-restore inputs that cfg's
// proxy in iptables mode sends for each state in turn (services and
// slices), starting on a node with nothing of its own: the first a full
// sync, the next incremental ones. Nothing is run.
func IPTablesRestoreInputs(cfg Config, states ...IPTState) []string {
	cfg.setDefaults()
	b := &iptBackend{cfg: &cfg, v6: false, prefix: iptPrefix(cfg.TableName)}
	var out []string
	old := map[string]map[string][]string{}
	for i, st := range states {
		want := b.build(buildServicePorts(st.Services, st.Slices, cfg.NodeName, false))
		in, _ := restoreInput(want, old, i == 0)
		out = append(out, string(in))
		old = want
	}
	return out
}

// IPTState is the cluster state one sync sees.
type IPTState struct {
	Services []*api.Service
	Slices   []*discovery.EndpointSlice
}
