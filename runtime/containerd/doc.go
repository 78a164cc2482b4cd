// Package containerd runs pods on a containerd daemon (1.6 or later) through
// the containerd v2 Go client, implementing runtime.Runtime.
//
// # Design
//
// Everything lives in one containerd namespace (Config.Namespace). A sandbox
// is a containerd container record without a process: its labels hold the
// pod identity and the sandbox's state, IP, network namespace path, host
// name and port mappings, so that all state is in containerd and a second
// Runtime on the same daemon (sharing Config.StateDir, which holds the CNI
// cache, IPAM state, sandbox files and FIFOs) sees and manages everything
// the first made. There is no pause container: the runtime creates the
// sandbox's network namespace itself, pinned like `ip netns add` does at
// <NetNSDir>/setpoint-<namespace>-<sandbox id> (NetNSDir made a shared
// mount point first, as iproute2 does, so that namespaces pinned by either
// stay visible to both), and attaches it through CNI
// (github.com/containernetworking/cni/libcni): the loopback plugin for lo
// and, for eth0, a bridge with host-local IPAM over Config.Network.Subnet
// (the node's pod CIDR) and, when its binary is installed, the portmap
// plugin, which maps host ports with iptables DNAT rules that CNI DEL
// removes; or any CNI configuration list. Host ports are checked against
// the other sandboxes' before the sandbox is made.
//
// Containers join the namespace by path. The sandbox's files
// (<StateDir>/sandboxes/<ns>/<id>: hostname, hosts, resolv.conf) are bind
// mounted read-only at /etc unless the caller mounts its own; the node's
// /etc/resolv.conf is used without a DNSConfig. Tmpfs volumes are tmpfs
// mounts on the node under the sandbox's directory, made on first use,
// bind-mounted into containers, and unmounted when the sandbox is removed.
// Containers see their cgroups at /sys/fs/cgroup (read-only), as Kubernetes
// containers do. The security context maps to the OCI process user,
// capabilities (bounding, effective, permitted), no_new_privs, a read-only
// root, for privileged containers containerd's privileged options, and a
// seccomp filter: containerd's default profile (contrib/seccomp) for
// RuntimeDefault, the given profile for Localhost.
//
// CreateContainer makes the container (snapshot, OCI spec), its FIFOs under
// <StateDir>/io/<ns>/<id> and its task, so runc validates the command at
// create time; a failure removes all of it. A copier in the runtime reads
// the stdout and stderr FIFOs and appends each line, timestamped and tagged
// with its stream, to the log file (<LogDir>/<ns>_<pod>_<uid>_<sandbox
// attempt>/<name>/<attempt>.log, the CRI log format), and copies the bytes
// to attached clients. One copier per container runs among all Runtimes of
// a node (a lock file arbitrates); a Runtime that starts resumes the copy of
// every container an earlier one left, so output written meanwhile waits in
// the FIFOs (the process blocks once they hold 64 KiB) and nothing is lost
// or copied twice. The shim keeps a container's stdin open until CloseIO,
// so its input survives the Runtime's restarts; StdinOnce closes it after
// the first attached client's input ends. Exec streams through FIFOs the
// containerd client copies; port forwarding dials from a thread that has
// joined the sandbox's network namespace; sandbox statistics come from that
// namespace's /proc/net/dev.
//
// Status comes from the task while the process lives, and from labels
// (start time, and exit code and time) afterwards. The shim reports an exit
// before the last output has reached the log, so when the runtime first
// sees a task stopped (in ContainerStatus, ListContainers, StopContainer or
// a following Logs) it reaps it, holding the container's lock: it waits for
// the copier to read the output to its end, records the exit in the
// container's labels, then deletes the task, which ends the shim. A
// container is reported Exited only once reaped, so once it is reported
// Exited its log is complete. Stats decode the task's cgroup v1 or v2
// metrics.
//
// Images are imported from OCI layout tarballs (see runtime/image) and
// unpacked into Config.Snapshotter; EnsureImage pulls missing images with a
// bounded timeout and fails fast, wrapping runtime.ErrImageNotFound and
// runtime.ErrUnavailable, when no registry can be reached. The daemon's
// transfer, sandbox and CRI services are not used, so a 1.6 daemon works.
//
// OOM kills are learnt from the shims' /tasks/oom events, which a Runtime
// watches while it is open, and from the container's cgroup OOM kill
// counter, which reap reads before it deletes the task (the shim may not
// have published the event by then), and reported as
// runtime.ReasonOOMKilled.
package containerd
