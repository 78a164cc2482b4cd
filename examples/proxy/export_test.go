package proxy

import "sigs.k8s.io/knftables"

// UseNFT makes p program nft (a knftables.Fake in tests) instead of the host.
func UseNFT(p *Proxy, nft knftables.Interface) {
	p.newNFT = func() (knftables.Interface, error) { return nft, nil }
}
