// Package cluster assembles the example components into a cluster, in the
// spirit of k3s: a Server runs etcd (embedded in DataDir/etcd unless
// Config.EtcdServers names an external cluster), the apiserver, the
// controller-manager and the scheduler in one process and writes an admin
// kubeconfig; Nodes are kubelets, on the real containerd runtime or on any
// runtime.Runtime (runtime/fake for simulated nodes).
//
// # Contract
//
//   - The components talk only through the apiserver, as separate programs
//     would: each has its own clientset and its own client certificate,
//     issued by the apiserver's CA (system:kube-controller-manager,
//     system:kube-scheduler, system:node:<name> in system:nodes).
//   - Each containerd node has its own containerd namespace
//     (NamespacePrefix+name), state and log directories under its Dir, its
//     own bridge (BridgeName, prefix BridgePrefix) and its own pod subnet.
//     The bridge holds the subnet's first address (the node's IP) and the
//     host routes between the bridges, so on one machine pods on different
//     nodes reach each other, and the host reaches every pod, by pod IP.
//   - Run returns nil once ctx has ended and every part has stopped; a
//     stopped node removes its sandboxes, containers, images, bridge and
//     directory, unless NodeConfig.Keep (then a restarted node adopts its
//     pods, as after a kubelet restart).
//
// # Where it differs from Kubernetes, for now
//
//   - Pod CIDRs: until the controller-manager's node IPAM lands, the
//     server gives node i of Config.Nodes the (i+1)-th subnet of
//     Config.ClusterCIDR (NodeSubnet) and sets it in the kubelet's Config,
//     which reports it in the Node's spec.
//   - Authorization: until RBAC and node authorization land, New writes a
//     rules file (DataDir/authz.json) that lets each component identity do
//     everything; the identities are already distinct, so RBAC's bindings
//     for them plug in by replacing that file with the RBAC authorizer.
//   - DNS, the service proxy and the node lifecycle controllers are not
//     run yet: each plugs in as a ComponentFunc given to New (a client from
//     Server.IssueKubeconfig, run in the server's errgroup), or as a
//     controller of the controller-manager.
package cluster
