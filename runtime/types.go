package runtime

import (
	"time"
)

// Image is a local image and the run configuration it gives containers.
type Image struct {
	// Name is the image reference, for example "example.com/app:v1".
	Name string
	// Digest is the manifest (or index) digest, "sha256:...".
	Digest string
	// ID is the digest of the image's configuration, "sha256:...": what
	// identifies the image's content whatever its name (the CRI image ID).
	ID string
	// Size is the size of the image's content in bytes.
	Size int64
	// User is the image's configured user ("", "root", "1000",
	// "1000:1000", "name" or "name:group"); empty means root.
	User string
	// Env, Entrypoint, Cmd and WorkingDir are the image's defaults for a
	// container's environment, command and working directory.
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
}

// SandboxConfig describes a pod sandbox.
type SandboxConfig struct {
	// Name, Namespace and UID identify the pod. Name and UID are required.
	Name      string
	Namespace string
	UID       string
	// Attempt counts sandboxes made for the same pod (kept by the caller).
	Attempt uint32
	// Hostname is the pod's host name; empty means Name.
	Hostname string
	// HostNetwork shares the node's network namespace: no CNI, and the
	// sandbox reports the node's IP.
	HostNetwork bool
	// DNS, when set, is written as the /etc/resolv.conf every container of
	// the sandbox sees. Nil gives containers the node's /etc/resolv.conf.
	DNS *DNSConfig
	// PortMappings forward ports of the node to ports of the sandbox (a
	// pod's hostPort). Host ports are unique on a node per protocol and
	// host IP.
	PortMappings []PortMapping
	// Labels are the caller's labels, matched by ListSandboxes. Keys must not
	// use the reserved prefix "setpoint.dev/".
	Labels map[string]string
}

// SandboxState is the state of a sandbox.
type SandboxState string

// The sandbox states.
const (
	// SandboxReady: the network is set up; containers can be created.
	SandboxReady SandboxState = "Ready"
	// SandboxNotReady: the sandbox was stopped; it can only be removed.
	SandboxNotReady SandboxState = "NotReady"
)

// SandboxStatus reports a sandbox.
type SandboxStatus struct {
	// ID is the sandbox's ID.
	ID string
	// Name, Namespace, UID and Attempt are copied from the config.
	Name      string
	Namespace string
	UID       string
	Attempt   uint32
	// State is Ready or NotReady.
	State SandboxState
	// IP is the pod IP ("" when not ready).
	IP string
	// HostNetwork is copied from the config.
	HostNetwork bool
	// Hostname is the host name the sandbox's containers see.
	Hostname string
	// PortMappings are copied from the config.
	PortMappings []PortMapping
	// NetNS is the path of the network namespace ("" for host network).
	NetNS string
	// CreatedAt is when the sandbox was created.
	CreatedAt time.Time
	// Labels are the sandbox's labels: the caller's plus the reserved
	// setpoint.dev/ labels that identify the pod.
	Labels map[string]string
}

// Resources limits a container's CPU, memory and processes. Zero values
// mean no limit.
type Resources struct {
	// CPUShares is the relative CPU weight (cgroup cpu.shares), 2..262144.
	CPUShares uint64
	// CPUQuota is the CPU time in microseconds the container may use per
	// CPUPeriod; at least 1000. 0 means no quota.
	CPUQuota int64
	// CPUPeriod is the quota period in microseconds, 1000..1000000
	// (default 100000 when CPUQuota is set).
	CPUPeriod uint64
	// MemoryLimit is the memory limit in bytes; at least 4 MiB. 0 means none.
	MemoryLimit int64
	// PidsLimit is the most processes and threads the container may have
	// at once (cgroup pids.max). 0 means no limit.
	PidsLimit int64
}

// ContainerConfig describes a container.
type ContainerConfig struct {
	// Name is the container's name within its pod (DNS label). Required.
	Name string
	// Attempt counts containers made for the same name in the same sandbox
	// (the restart count, kept by the caller).
	Attempt uint32
	// Image is the image reference; it must be local (see EnsureImage).
	Image string
	// Command replaces the image's entrypoint when set.
	Command []string
	// Args replaces the image's cmd when set.
	Args []string
	// Env is added to the image's environment, as KEY=VALUE.
	Env []string
	// WorkingDir replaces the image's working directory when set.
	WorkingDir string
	// Labels are the caller's labels; reserved prefix "setpoint.dev/".
	Labels map[string]string
	// Resources are the container's limits.
	Resources Resources
	// Mounts are bind mounts of node paths and tmpfs volumes, in order. A
	// mount at /etc/hosts, /etc/hostname or /etc/resolv.conf replaces the
	// file the runtime would provide.
	Mounts []Mount
	// Security is the container's security context: user, capabilities,
	// privileges.
	Security SecurityContext
	// Stdin gives the process a standard input that Attach can write to;
	// without it the process reads end of file. StdinOnce closes that
	// input when the first attached client's input ends. TTY gives the
	// process a terminal: its stderr is merged into stdout. These are the
	// Kubernetes container fields stdin, stdinOnce and tty.
	Stdin     bool
	StdinOnce bool
	TTY       bool
}

// ContainerState is the state of a container.
type ContainerState string

// The container states. A container moves Created -> Running -> Exited, or
// Created -> Exited if it is stopped before it starts.
const (
	// ContainerCreated: created, not started.
	ContainerCreated ContainerState = "Created"
	// ContainerRunning: the process runs.
	ContainerRunning ContainerState = "Running"
	// ContainerExited: the process has exited; ExitCode is set.
	ContainerExited ContainerState = "Exited"
	// ContainerUnknown: the state could not be determined.
	ContainerUnknown ContainerState = "Unknown"
)

// Reasons reported in ContainerStatus.Reason for an exited container.
const (
	// ReasonCompleted: exit code 0.
	ReasonCompleted = "Completed"
	// ReasonError: non-zero exit code.
	ReasonError = "Error"
	// ReasonOOMKilled: the kernel killed the process for exceeding its
	// memory limit.
	ReasonOOMKilled = "OOMKilled"
)

// ContainerStatus reports a container.
type ContainerStatus struct {
	// ID is the container's ID; SandboxID is its sandbox's.
	ID        string
	SandboxID string
	// Name, Attempt and Image are copied from the config.
	Name    string
	Attempt uint32
	Image   string
	// ImageID is the ID (configuration digest) of the image the container
	// was created from.
	ImageID string
	// State is the container's state.
	State ContainerState
	// ExitCode is the process's exit code once Exited (128+signal when it
	// was killed by a signal).
	ExitCode int
	// Reason is ReasonCompleted, ReasonError or ReasonOOMKilled once Exited.
	Reason string
	// CreatedAt, StartedAt and FinishedAt are zero until they happen.
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// Labels are the container's labels (the caller's plus reserved ones).
	Labels map[string]string
	// LogPath is the file holding the container's output, in the CRI
	// log format (see LogOptions).
	LogPath string
}

// SandboxFilter selects sandboxes. Zero fields match everything.
type SandboxFilter struct {
	// ID selects one sandbox.
	ID string
	// State selects sandboxes in that state.
	State SandboxState
	// Labels selects sandboxes having every one of these labels.
	Labels map[string]string
}

// Match reports whether s is selected.
func (f SandboxFilter) Match(s SandboxStatus) bool {
	return (f.ID == "" || f.ID == s.ID) && (f.State == "" || f.State == s.State) && hasLabels(s.Labels, f.Labels)
}

// ContainerFilter selects containers. Zero fields match everything.
type ContainerFilter struct {
	// ID selects one container.
	ID string
	// SandboxID selects the containers of one sandbox.
	SandboxID string
	// State selects containers in that state.
	State ContainerState
	// Labels selects containers having every one of these labels.
	Labels map[string]string
}

// Match reports whether c is selected.
func (f ContainerFilter) Match(c ContainerStatus) bool {
	return (f.ID == "" || f.ID == c.ID) && (f.SandboxID == "" || f.SandboxID == c.SandboxID) &&
		(f.State == "" || f.State == c.State) && hasLabels(c.Labels, f.Labels)
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ContainerStats is a container's resource usage.
type ContainerStats struct {
	// Timestamp is when the figures were read.
	Timestamp time.Time
	// CPUUsageNanos is the CPU time used since the container started.
	CPUUsageNanos uint64
	// MemoryUsageBytes is the memory in use, including the page cache.
	MemoryUsageBytes uint64
	// MemoryWorkingSetBytes is MemoryUsageBytes minus inactive file pages,
	// what the kubelet compares with the limit.
	MemoryWorkingSetBytes uint64
	// MemoryLimitBytes is the effective limit (0 when unlimited).
	MemoryLimitBytes uint64
}

// SandboxStats is a sandbox's network usage.
type SandboxStats struct {
	// Timestamp is when the figures were read.
	Timestamp time.Time
	// Interfaces are the sandbox's network interfaces other than loopback
	// (for a CNI pod, eth0). Host-network sandboxes report none: their
	// traffic is the node's.
	Interfaces []InterfaceStats
}

// InterfaceStats counts the traffic of one network interface since it was
// created.
type InterfaceStats struct {
	// Name is the interface's name inside the sandbox, for example "eth0".
	Name string
	// RxBytes and TxBytes are the bytes received and sent, RxErrors and
	// TxErrors the receive and transmit errors.
	RxBytes  uint64
	TxBytes  uint64
	RxErrors uint64
	TxErrors uint64
}
