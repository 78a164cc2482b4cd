package proxy

import "sigs.k8s.io/knftables"

// UseNFT makes p program nft (a knftables.Fake in tests) instead of the host.
func UseNFT(p *Proxy, nft knftables.Interface) {
	p.newNFT = func(bool) (knftables.Interface, error) { return nft, nil }
}

// IPTPrefix is the prefix of the iptables chains of the proxy with table name table.
func IPTPrefix(table string) string { return iptPrefix(table) }
