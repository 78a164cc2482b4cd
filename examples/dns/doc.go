// Package dns is the example cluster's DNS server: it answers the names of
// Services and their endpoints from the apiserver, as CoreDNS's kubernetes
// plugin does, following "Kubernetes DNS-Based Service Discovery", schema
// version 1.1.0 (https://github.com/kubernetes/dns/blob/master/docs/specification.md).
// DNS messages are parsed and written by github.com/miekg/dns.
//
// Records (<zone> is Config.Domain, default cluster.local; all comparisons
// are case-insensitive):
//
//   - dns-version.<zone>. TXT "1.1.0" (spec 2.2); the SOA and NS of
//     <zone>, with ns.dns.<zone> at the ClusterIP of Config.Service
//     (kube-system/kube-dns).
//   - Services with a ClusterIP (spec 2.3): <svc>.<ns>.svc.<zone> A or AAAA
//     for each of spec.clusterIPs; _<port>._<proto>.<svc>.<ns>.svc.<zone>
//     SRV (priority 0, weight 100, the service port, target the service
//     name, its addresses in the additional section) for each named port;
//     PTR from each ClusterIP's in-addr.arpa./ip6.arpa. name (IPv6 as 32
//     nibbles) to the service name. A service whose address is not yet
//     allocated exists with no address (NODATA).
//   - Headless services (clusterIP None, spec 2.4), from the
//     discovery.k8s.io/v1 EndpointSlices labelled kubernetes.io/service-name:
//     <svc>.<ns>.svc.<zone> A/AAAA for each ready endpoint address (every
//     address when spec.publishNotReadyAddresses is set; a missing ready
//     condition counts as ready, as the EndpointSlice API defines);
//     <hostname>.<svc>.<ns>.svc.<zone> for each endpoint, where hostname is
//     the endpoint's hostname field (what the EndpointSlice controller sets
//     for a pod with spec.hostname and spec.subdomain equal to the service
//     name, so StatefulSet pods are <pod>.<svc>.<ns>.svc.<zone>) or else the
//     address with '.' or ':' replaced by '-' (CoreDNS's choice of the spec's
//     "system-assigned identifier"); SRV per named slice port and endpoint,
//     with the endpoint port (the target port, as CoreDNS does); PTR from
//     each address to its endpoint name. With no ready endpoint the name
//     does not exist (NXDOMAIN, as the spec says).
//   - ExternalName services (spec 2.5): <svc>.<ns>.svc.<zone> CNAME
//     <externalName>; the target's records of the query type are appended
//     when it is in the cluster or, with upstreams, resolved through them.
//
// Answers. A name that exists but has no record of the asked type is
// NODATA (NOERROR, empty answer, the zone's SOA in authority, RFC 2308),
// and so are the empty non-terminals between the records and the zone
// (<ns>.svc.<zone>, svc.<zone>, _tcp.<svc>.<ns>.svc.<zone>, RFC 8020); a
// name in the zone that does not exist is NXDOMAIN with the SOA. Every
// record carries Config.TTL (default 30 s, as kubeadm configures CoreDNS;
// the plugin's own default is 5 s), which is also the SOA minimum used for
// negative caching. Answers in the zone are authoritative (AA).
//
// Transport. The server listens on UDP and TCP at the same address. A UDP
// answer is at most 512 bytes, or the client's EDNS0 payload size capped at
// Config.UDPSize (default 1232); a longer one is truncated (TC set, whole
// records only) and the client retries over TCP, where the limit is 65535.
// Queries with EDNS0 get an OPT record; an EDNS version other than 0 gets
// BADVERS (RFC 6891). Opcodes other than QUERY get NOTIMP; a message that
// does not parse, or holds other than one question, gets FORMERR; classes
// other than IN (and ANY) and zone transfers (AXFR, IXFR) get REFUSED.
//
// Other names. Names outside the zone go to Config.Upstreams in order (UDP,
// then TCP on truncation; SERVFAIL when none answers); with no upstreams
// (the default) they are REFUSED, and reverse names of no cluster address
// are NXDOMAIN with an in-addr.arpa./ip6.arpa. SOA.
//
// Consistency. The server keeps an immutable snapshot of every record,
// rebuilt from the informers' caches after each change (changes that come
// while a rebuild runs are folded into the next one) and swapped in
// atomically: a query sees one snapshot, which reflects one state of each
// informer's cache. Deleting a service or an endpoint turning not ready
// removes its records at the next rebuild. Run serves only once both
// informers have synced; /readyz says so.
//
// Not implemented, and why: pod records <a-b-c-d>.<ns>.pod.<zone> (not in
// the schema; CoreDNS offers them only as an option), wildcard queries
// (deprecated by the spec), DNSSEC, zone transfers, and response caching
// (answers come from memory already).
//
// Deployment. As a host process, set Config.Listen (examples/cmd/dns). In
// the cluster, create ClusterObjects: a kube-dns Deployment in kube-system
// running the dns program with a kubeconfig mounted from a Secret (the
// example client has no in-cluster configuration), RBAC to list and watch
// services and endpoint slices, and the kube-dns Service at a fixed
// ClusterIP, the address kubelets give pods as their nameserver.
//
// The server reads services and endpoint slices through the client's
// shared informers: run the informer factory (cs.Informers().Run) next to
// Run.
//
// Metrics (Config.Registerer): setpoint_dns_queries_total{type,rcode},
// setpoint_dns_request_duration_seconds{proto},
// setpoint_dns_forward_responses_total{rcode}, setpoint_dns_names and
// setpoint_dns_snapshot_builds_total. Handler serves /healthz and /readyz.
package dns
