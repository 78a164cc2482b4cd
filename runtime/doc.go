// Package runtime is the container runtime interface a kubelet needs to run
// pods: images, pod sandboxes and containers, and the streams into them,
// shaped like the Kubernetes CRI but Go-native and small. Implementations:
// runtime/containerd (real containers on a containerd daemon) and
// runtime/fake (in memory, for tests and for simulating many nodes). Both
// pass the contract suite in runtime/runtimetest.
//
// # Model
//
// A sandbox owns a pod's network namespace and reports its IP (host-network
// sandboxes share the node's); it plays the part of Kubernetes' pause
// container. Containers are created in a ready sandbox and join its network
// namespace, so the containers of a pod talk over localhost. A container
// moves Created -> Running -> Exited (or Created -> Exited when stopped
// before it starts) and never back: a restart is a new container with the
// next Attempt, the restart count being kept by the caller. A sandbox moves
// Ready -> NotReady (StopSandbox) and is then removed.
//
// # What the kubelet maps onto it
//
//   - Pod: SandboxConfig (host name, DNS configuration, host ports as
//     PortMappings, host network). The runtime writes /etc/hostname and,
//     from SandboxConfig.DNS, /etc/resolv.conf (the node's when DNS is
//     nil), as CRI runtimes do; it also gives a default /etc/hosts, but the
//     kubelet, which knows host aliases and the pod's subdomain, is expected
//     to write its own and bind-mount it (as the kubelet does on CRI). A
//     Mount at any of FilesProvided replaces the runtime's file.
//   - Container: ContainerConfig. Volumes are Mounts: bind mounts of node
//     files and directories (configMap, secret, downward API, hostPath,
//     emptyDir on disk, the termination-log file) and sandbox-wide tmpfs
//     volumes with a size limit (emptyDir with medium Memory). Security is
//     SecurityContext (runAsUser/Group, supplementalGroups, runAsNonRoot
//     against the image's user, readOnlyRootFilesystem, capabilities,
//     privileged, allowPrivilegeEscalation=false as NoNewPrivileges,
//     seccompProfile as Seccomp);
//     resources are Resources (CPU shares and quota, memory and pids
//     limits, applied to the container's cgroup). Stdin, StdinOnce and TTY
//     are the container fields of the same names.
//   - kubectl logs: Logs with LogOptions (follow, tail, since, timestamps,
//     limitBytes, stream; --previous reads the previous attempt's container,
//     which keeps its log until removed). kubectl exec, attach and
//     port-forward: StreamService. Summary stats: Stats and SandboxStats.
//     Images: ImageStatus reports the configured user, environment,
//     entrypoint, cmd and working directory; a missing image is
//     ErrImageNotFound (the kubelet's ErrImagePull / ErrImageNeverPull).
//
// # Contract
//
//   - IDs are derived from identity: SandboxID hashes the pod's namespace,
//     name, UID and attempt; ContainerID hashes the sandbox ID, container name
//     and attempt. Creating the same identity twice fails with
//     ErrAlreadyExists, even from two racing callers or two runtime
//     instances: exactly one wins.
//   - Every sandbox and container carries the reserved labels LabelPodName,
//     LabelPodNamespace, LabelPodUID, LabelAttempt (and LabelSandboxID,
//     LabelContainerName for containers) besides the caller's labels. A
//     kubelet that restarts lists by them to adopt what runs instead of
//     starting duplicates, and removes what no pod owns (RemoveOrphans).
//     Callers may not set labels under ReservedLabelPrefix. Statuses keep
//     what adoption needs (host name, port mappings, image ID, log path).
//   - Bad input (an invalid field, a bad resource value, a mount whose
//     source is missing, a user that runAsNonRoot refuses, a missing image,
//     a command the image cannot run) fails with an error wrapping ErrInvalid
//     or ErrImageNotFound that names the object and the field, and creates
//     nothing. A host port another sandbox holds fails with
//     ErrAlreadyExists.
//   - Exit status: ExitCode is the process's code, 128+signal when killed by
//     a signal (143 for SIGTERM, 137 for SIGKILL); Reason is ReasonCompleted
//     for 0, ReasonError otherwise, ReasonOOMKilled where the implementation
//     can tell.
//   - StopContainer sends SIGTERM, waits up to the grace period, then sends
//     SIGKILL; it returns once the process has exited and the container is
//     reported Exited. Stopping a container that is not running does
//     nothing.
//   - Once a container is reported Exited (by ContainerStatus or
//     ListContainers, or when StopContainer returns), its log holds
//     everything the process wrote: a caller that reads the log after seeing
//     the exit, as a kubelet does for a crashed container, misses nothing.
//   - Logs are kept in the CRI log format, one entry per line with its time
//     and stream (see LogOptions); each stream keeps its order, but lines of
//     stdout and stderr written close together may interleave differently
//     than they were written. A last line without a newline is logged as a
//     line.
//   - Exec and Attach stream until the process's output has ended (or the
//     context does: Exec then kills its process). A container's stdin stays
//     open across attached clients unless StdinOnce. On a TTY, output gets
//     "\r\n" line ends and input is echoed, as a terminal does.
//   - RemoveContainer also removes the container's root filesystem and log.
//     RemoveSandbox stops and removes the sandbox's containers, its network
//     (and host ports) and its tmpfs volumes. Nothing is left behind.
//   - Every error wraps one of the sentinels below (or a context error).
//
// Operations on different objects may run concurrently; a Runtime is safe
// for concurrent use.
package runtime
