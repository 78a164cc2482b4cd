// Package cluster assembles the example components into a cluster, in the
// spirit of k3s: a Server runs etcd (embedded in DataDir/etcd unless
// Config.EtcdServers names an external cluster), the apiserver, the
// controller-manager, the scheduler, the service load balancer and the
// cluster DNS in one process and writes an admin kubeconfig; Nodes are
// kubelets (and node proxies), on the real containerd runtime or on any
// runtime.Runtime (runtime/fake for simulated nodes).
//
// # Contract
//
//   - The components talk only through the apiserver, as separate programs
//     would: each has its own clientset and its own client certificate,
//     issued by the apiserver's CA, for the identity Kubernetes binds:
//     system:kube-controller-manager, system:kube-scheduler,
//     system:node:<name> in system:nodes, system:kube-proxy, and the
//     kube-dns service account for the DNS.
//   - The apiserver runs Kubernetes' security model: the Node authorizer
//     and NodeRestriction for kubelets, RBAC with the bootstrap roles and
//     bindings for everyone else; only system:masters (the admin
//     kubeconfig) may do everything. Config.AuthzFile adds rules before
//     them.
//   - The controller-manager runs every controller, with node IPAM on
//     Config.ClusterCIDR and CSR signing with the cluster CA. A containerd
//     node registers its Node, waits for node IPAM to write its
//     spec.podCIDR, and only then makes its bridge and starts its pods.
//   - Each containerd node has its own containerd namespace
//     (NamespacePrefix+name), state and log directories under its Dir, its
//     own bridge (BridgeName, prefix BridgePrefix) holding the first
//     address of its pod CIDR (the node's IP), and its own node proxy in an
//     nftables table named like its bridge. Its Node's
//     setpoint.dev/local-volume-dir annotation puts the local volumes the
//     provisioner makes for its pods under its Dir too. The host routes between the
//     bridges, so on one machine pods on different nodes reach each other,
//     and the host reaches every pod, by pod IP.
//   - Each containerd node's kubelet serves its HTTPS API (logs, exec,
//     attach, port-forward, stats) on the node's IP with a port of its own
//     (NodeConfig.KubeletPort), published in the Node's status; it lets in
//     client certificates of the cluster CA, and the apiserver reaches it
//     with its kubelet client certificate, so kubectl logs, exec, attach,
//     port-forward and top work on the cluster's pods. The node makes its
//     bridge with the node's IP when it starts, so the address is there
//     before the first pod.
//   - The DNS serves ClusterDomain on Config.DNSListen; the kube-dns
//     Service in kube-system has the tenth address of the service CIDR
//     (DNSServiceIP) and an EndpointSlice naming the DNS's address, so pods
//     reach it through the proxies' rules, and kubelets write that address
//     into pods' resolv.conf (dnsPolicy ClusterFirst).
//   - Run returns nil once ctx has ended and every part has stopped; a
//     stopped node removes its sandboxes, containers, images, bridge,
//     proxy table and directory, unless NodeConfig.Keep (then a restarted
//     node adopts its pods, as after a kubelet restart).
//
// # Where it differs from Kubernetes, for now
//
//   - The nodes share the host's network namespace: each node has its own
//     bridge and proxy table, but its proxy's NodePorts answer on every
//     host address, and a Service's traffic may be translated by any
//     node's table (they hold the same rules). A namespace per node needs
//     the runtime to run its CNI plugins from inside the node's namespace
//     (so the bridge plugin makes the bridge and the pods' veths there, and
//     the portmap plugin its host-port rules): runtime/containerd execs
//     them from the process's own namespace today, and libcni has no
//     option for it (it needs an invoke.Exec that starts each plugin from
//     an OS thread in the namespace, as examples/proxy does for nft with
//     Config.NetNS). The kubelet's API would also have to listen inside
//     the node's namespace, on its veth's address, and the host route each
//     pod CIDR to its node's veth address. Not done yet.
//   - Simulated nodes (on a given Runtime) serve no kubelet API: their
//     NodeIP is not an address of the host, so kubectl logs, exec and top
//     do not reach them.
//   - The controllers run as the controller-manager's identity, not with
//     per-controller service accounts: the controller-manager has one
//     client (Kubernetes' --use-service-account-credentials is not
//     implemented), and the bootstrap role system:kube-controller-manager
//     holds what they all need.
//   - The DNS runs in the server process rather than as pods; its address
//     is on a link of the host (like NodeLocal DNSCache's).
package cluster
