// Package proxy is the example cluster's node proxy: it watches Services
// and EndpointSlices and programs the node's nftables so that a Service's
// ClusterIP, NodePorts, external IPs and load-balancer ingress IPs reach
// its endpoints, as Kubernetes' kube-proxy does in its nftables mode.
//
// Shape: Config (documented defaults, Validate), New, Run(ctx), and
// Cleanup, which removes everything the proxy made. The proxy reads the
// cluster through the shared informers of Config.Client; run the informer
// factory (Client.Informers().Run) next to Run.
//
// # What it programs
//
// One table of its own (family ip, Config.TableName, and family ip6 with
// Config.IPv6) and nothing outside it. Connections are matched in the nat
// prerouting and output hooks by destination address, protocol and port
// through verdict maps, then sent to one chain per service port, which
// DNATs to an endpoint picked at random through an inline map (one rule,
// whatever the number of endpoints, as kube-proxy v1.37's nftables mode does
// too); only service ports with session affinity get a chain per
// endpoint. The Kubernetes behaviours it follows:
//
//   - Only ready endpoints receive traffic; when none is ready, serving
//     terminating endpoints do (the fallback that lets a rollout drain).
//   - A service port without endpoints rejects new connections at once
//     (ICMP port unreachable, so a TCP client sees "connection refused"),
//     from filter chains on the input, forward and output hooks, as nat
//     chains cannot reject.
//   - NodePorts are served on every local address (or those in
//     Config.NodePortAddresses) except loopback, as kube-proxy's nftables
//     mode does.
//   - sessionAffinity ClientIP pins a client to an endpoint for the
//     configured timeout, through one dynamic set with timeouts per
//     endpoint.
//   - internalTrafficPolicy Local uses only this node's endpoints for
//     ClusterIP traffic; externalTrafficPolicy Local uses only this node's
//     endpoints for NodePort, external and load-balancer traffic and keeps
//     the client's source address, while traffic from pods (ClusterCIDR) and
//     from the node itself keeps the Cluster policy. With no local endpoint
//     such traffic is dropped.
//   - Masquerade: external traffic with the Cluster policy and ClusterIP
//     traffic from outside ClusterCIDR are marked and masqueraded on the
//     way out; hairpin traffic (a pod reaching itself through its Service)
//     is masqueraded through a set of this node's endpoints, matched
//     against DNATed connections whose source is their own destination.
//
// # Syncs
//
// A change seen by the informers requests a sync; syncs are at least
// MinSyncPeriod apart (changes in between are batched) and happen at least
// every SyncPeriod. Syncs are incremental from end to end, so a sync costs
// what changed, not the size of the cluster:
//
//   - The informer handlers mark the Services whose Service or
//     EndpointSlices changed (slices are indexed by their Service); a sync
//     rebuilds the service ports of those Services only, from the caches.
//     A rebuilt port equal to the one before keeps its identity, so the
//     backends skip it at the cost of a pointer comparison. The first sync
//     and the SyncPeriod resync rebuild every Service's ports (which also
//     repairs what a relist could slip past the marks: a relist may call
//     handlers just before it updates the cache).
//   - The nftables backend keeps each service port's part of the ruleset
//     (its chains, map and set elements, affinity sets) and rebuilds only
//     the parts of the ports that changed; the ruleset is updated part by
//     part (an element two ports want, such as a shared external IP, goes
//     to the port with the greatest key, as in a build from scratch), and
//     the sync compares only what the changed parts touched.
//   - One nft transaction sends that difference (changed chains are
//     flushed and refilled, map elements added or deleted); the first sync
//     after start, and the one after a failure, rewrite every chain and map
//     of the table in one transaction. A restart therefore never removes
//     the table: established connections keep their conntrack NAT state,
//     and the rules after a restart equal those of a fresh sync. Affinity
//     sets of a previous run are kept, so clients stay pinned.
//
// A property test drives random Services and EndpointSlices through
// random changes and checks that the rebuilt ports, the updated ruleset
// and the table equal those of a fresh build and a fresh sync. (The
// iptables mode shares the first step; it still builds its whole ruleset
// and compares it chain by chain.)
//
// The commonest incremental sync, endpoints changing behind existing
// IPv4 service ports without session affinity, is written straight
// through netlink (github.com/google/nftables) in one batch instead: nft
// first lists every chain of the table before it applies even a one-rule
// change, which on 5,000 services takes most of the sync's time. The
// rules written are those nft would write for the same text (a test
// compares nft's listings of both); only the keys of the inline endpoint
// maps are listed byte-swapped (the library marks an anonymous map's keys
// big-endian; they hold numgen's host-order numbers and match as nft's
// do). Every other sync goes through nft.
//
// After each sync the proxy deletes stale UDP conntrack entries (through
// netlink, github.com/vishvananda/netlink), as kube-proxy does: those NATed
// to an endpoint that is no longer used (UDP "connections" never end, so a
// client would keep sending to it), and, for a service that had no
// endpoint and now has some, its entries that were not NATed at all. The
// first sync of a run flushes nothing (the previous run's state is
// unknown). TCP entries are left alone: a removed endpoint resets them.
//
// Metrics (Config.Registerer): setpoint_proxy_sync_duration_seconds,
// setpoint_proxy_network_programming_duration_seconds (from the moment an
// EndpointSlice change was seen to the end of the sync that programmed it)
// and setpoint_proxy_syncs_total by result.
//
// # Differences from kube-proxy, and what is left out
//
//   - IPv4 by default. With Config.IPv6 the IPv6 half of services
//     (spec.clusterIPs of family IPv6, IPv6 EndpointSlices, IPv6 external
//     and load-balancer IPs) is programmed too, the same way, in a table of
//     family ip6 with the same name (or ip6tables chains); dual-stack
//     services get rules in both. kube-proxy instead runs one proxier per
//     family, which is what this amounts to.
//   - No IPVS mode: IPVS needs the ip_vs kernel module, which the kernel
//     this project runs on lacks (it has no loadable modules at all).
//   - No loadBalancerSourceRanges firewall and no health-check node ports.
//
// # iptables mode
//
// Config.Mode ModeIPTables (--proxy-mode=iptables) is for hosts without
// nftables. It follows kube-proxy's iptables mode: chains of its own in the
// nat and filter tables, named with a prefix derived from Config.TableName
// ("SP" and four hash characters; SERVICES, NODEPORTS, MARK-MASQ,
// POSTROUTING, FILTER, and SVC-, EXT- and SEP- chains per service port and
// endpoint), reached by one jump rule each from nat PREROUTING, OUTPUT and
// POSTROUTING and filter INPUT, FORWARD and OUTPUT. An endpoint is chosen
// by statistic-module rules with probabilities 1/n, 1/(n-1), ..., so each
// gets an equal share; session affinity uses one recent-module list per
// endpoint; a service port without endpoints is rejected from the filter
// table; masquerade is requested with the same mark bit. Every sync is ONE
// iptables-restore input (--noflush) holding only the chains that changed
// (all of them on the first sync), and the stale chains' deletion; the
// jumps are kept with go-iptables' check-then-insert. Cleanup removes the
// jumps and every chain with the prefix.
//
// Config.NetNS programs another network namespace: the proxy starts its
// nft (or iptables) processes from an OS thread inside it. Tests and benchmarks use it to
// keep everything inside namespaces they create.
package proxy
