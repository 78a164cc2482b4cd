// Package runtime is the container runtime interface a kubelet needs to run
// pods: images, pod sandboxes and containers, shaped like the Kubernetes CRI
// but Go-native and small. Implementations: runtime/containerd (real
// containers on a containerd daemon) and runtime/fake (in memory, for tests
// and for simulating many nodes). Both pass the contract suite in
// runtime/runtimetest.
//
// # Model
//
// A sandbox owns a pod's network namespace and reports its IP (host-network
// sandboxes share the node's). Containers are created in a ready sandbox and
// join its network namespace, so the containers of a pod talk over
// localhost. A container moves Created -> Running -> Exited (or Created ->
// Exited when stopped before it starts) and never back: a restart is a new
// container with the next Attempt, the restart count being kept by the
// caller. A sandbox moves Ready -> NotReady (StopSandbox) and is then removed.
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
//     Callers may not set labels under ReservedLabelPrefix.
//   - Bad input (an invalid field, a bad resource value, a missing image, a
//     command the image cannot run) fails with an error wrapping ErrInvalid
//     or ErrImageNotFound that names the problem, and creates nothing.
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
//   - RemoveContainer also removes the container's root filesystem and log.
//     RemoveSandbox stops and removes the sandbox's containers and its
//     network.
//   - Logs holds stdout and stderr in one stream; each stream keeps its
//     order, but lines of stdout and stderr written close together may
//     interleave differently than they were written.
//   - Every error wraps one of the sentinels below (or a context error).
//
// Operations on different objects may run concurrently; a Runtime is safe
// for concurrent use.
package runtime
