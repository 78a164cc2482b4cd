// Package containerd runs pods on a containerd daemon (1.6 or later) through
// the containerd v2 Go client, implementing runtime.Runtime.
//
// # Design
//
// Everything lives in one containerd namespace (Config.Namespace). A sandbox
// is a containerd container record without a process: its labels hold the
// pod identity and the sandbox's state, IP and network namespace path, so
// that all state is in containerd and a second Runtime on the same daemon
// (sharing Config.StateDir, which holds the CNI cache and IPAM state) sees
// and manages everything the first made. There is no pause container: the
// runtime creates the sandbox's network namespace itself, pinned like
// `ip netns add` does at <NetNSDir>/setpoint-<namespace>-<sandbox id>, and
// attaches it through CNI (github.com/containernetworking/cni/libcni): the
// loopback plugin for lo and, for eth0, a bridge with host-local IPAM
// (Config.Network) or any CNI configuration list. Containers join the
// namespace by path, and see the sandbox's /etc/hosts (localhost and the pod's
// host name and IP, kept under <StateDir>/sandboxes) and the node's
// /etc/resolv.conf.
//
// CreateContainer makes the container (snapshot, OCI spec with resource
// limits) and its task, so runc validates the command at create time; a
// failure removes all of it. The shim writes the container's stdout and
// stderr straight to the log file (<LogDir>/<ns>_<pod>_<uid>_<sandbox attempt>/<name>/<attempt>.log),
// so logs survive restarts of the runtime and of containerd. (The shim is
// given the file as two plain paths, not cio.LogFile's file:// URI, with
// which the shim loses the end of stderr whenever stdout ends first; see
// shimLog.) Status comes
// from the task while the process lives, and from labels (start time, and
// exit code and time) afterwards. The shim reports an exit before it has
// copied the process's last output to the log file, so when the runtime
// first sees a task stopped (in ContainerStatus, ListContainers,
// StopContainer or a following Logs) it reaps it, holding the container's
// lock: it records the exit in the container's labels, then deletes the
// task, which waits for the shim to finish the log and ends the shim. A
// container is reported Exited only once reaped, so once it is reported
// Exited its log is complete. Stats decode the task's cgroup v1 or v2
// metrics.
//
// Images are imported from OCI layout tarballs (see runtime/image) and
// unpacked into Config.Snapshotter; EnsureImage pulls missing images with a
// bounded timeout and fails fast, wrapping runtime.ErrImageNotFound and
// runtime.ErrUnavailable, when no registry can be reached. The daemon's
// transfer and sandbox services are not used, so a 1.6 daemon works.
//
// OOM kills are learnt from the shims' /tasks/oom events, which a Runtime
// watches while it is open, and from the container's cgroup OOM kill
// counter, which reap reads before it deletes the task (the shim may not
// have published the event by then), and reported as
// runtime.ReasonOOMKilled.
package containerd
