// Package servicelb gives Services of type LoadBalancer an address from a
// configured pool and writes it to status.loadBalancer.ingress, as k3s's
// service load balancer and MetalLB (layer 2) do; the node proxy
// (examples/proxy) then serves the address on every node. Services with a
// spec.loadBalancerClass belong to another implementation and are left
// alone, as Kubernetes' convention says. A requested spec.loadBalancerIP
// in the pool and free is honoured.
//
// Contract: an address goes to at most one Service as far as this
// controller's cache shows; run one instance (behind election in a real
// deployment), since two instances could give the same address to two
// Services in the same moment. When a Service stops being a LoadBalancer
// its ingress is cleared and its address returns to the pool.
package servicelb
