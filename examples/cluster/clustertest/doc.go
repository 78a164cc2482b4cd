// Package clustertest starts a whole example cluster in-process for
// integration tests, in the style of net/http/httptest: Start(t, opts)
// returns a running cluster — embedded etcd, apiserver, controller-manager,
// scheduler and nodes — with an admin kubeconfig file (for kubectl or
// client.Config.KubeconfigPath) and an admin clientset, and stops it in
// t.Cleanup.
//
// Nodes are simulated by default: kubelets on runtime/fake, whose
// containers run the runtime test program (Image) as Go functions, so a
// cluster starts in well under a second and pods start at once. With
// Options.Containerd the nodes are real: a private containerd daemon runs
// their pods, each node with its own bridge and pod subnet, and Start
// needs root, containerd, runc and the CNI plugins. With Options.Sim,
// hundreds or thousands of further simulated nodes of package
// examples/cluster/sim run in the same process, for scale tests
// (TestSimulationConverges runs 500 nodes and 15,000 pods).
//
// # Contract
//
//   - Start returns once the apiserver serves, every node is Ready and the
//     controller-manager leads; it fails t otherwise.
//   - Cleanup stops every component and node and waits for them: real
//     nodes remove their containers, bridges and files, simulated pods are
//     removed, IPv4 forwarding is restored, and no goroutine of the
//     cluster outlives it.
package clustertest
