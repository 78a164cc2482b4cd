// Package sim simulates the nodes of a large cluster in one process:
// each node is the example kubelet (examples/kubelet) on its own fake
// runtime (runtime/fake), with its own client and credentials, so that
// the control plane sees what real nodes do: Node registration and
// status, a Lease renewed every LeaseRenewInterval, pods started, their
// status written, and the kubelet API's stats that kubectl top reads.
// Containers start after a simulated latency (a log-normal Latency) and
// use a simulated, per-container steady amount of CPU and memory (Usage).
//
// This follows KWOK and Kubernetes' kubemark ("hollow nodes"): KWOK fakes
// node and pod status from a single controller without any kubelet;
// kubemark runs the real kubelet with fake runtimes. sim is the latter,
// with the whole kubelet but in one process, about 0.3-0.4 MiB of heap
// per idle node.
//
// CreateWorkload makes the pods (Deployments across namespaces),
// WaitRunning and WaitNodesReady watch the run converge, and Sampler,
// PlotPNG and MutatingP99 produce the figures of a scale report: the
// control plane's CPU and memory over time, and the 99th percentile of
// its mutating requests' latency from its
// apiserver_request_duration_seconds histogram (Kubernetes' SLO: 1 s).
//
// Contract: Run returns when ctx ends (nil), or an error when a node
// cannot be built; a kubelet that fails (an apiserver refusing its
// registration under load, say) is restarted on the same runtime after a
// back-off and adopts its pods, as systemd restarts a kubelet. Run
// removes every simulated pod before it returns. Node i is
// named NamePrefix followed by i in five digits and has InternalIP
// NodeIP(i), a loopback address of its own, on which its kubelet API
// listens when Config.ClientCAPEM is set: the apiserver must run on the
// same machine to reach it.
package sim
