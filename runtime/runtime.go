package runtime

import (
	"context"
	"io"
	"net"
	"time"
)

// ImageService manages the images containers are created from.
type ImageService interface {
	// EnsureImage returns the local image named ref, pulling it when it is
	// not present. It fails with ErrImageNotFound when the image is neither
	// local nor pullable (ErrUnavailable when no registry can be reached).
	EnsureImage(ctx context.Context, ref string) (Image, error)
	// ImportImage loads every image of an OCI image layout tarball (such as
	// the one image.Builder writes) and makes it ready to run.
	ImportImage(ctx context.Context, r io.Reader) ([]Image, error)
	// ListImages returns the local images, sorted by name.
	ListImages(ctx context.Context) ([]Image, error)
	// ImageStatus returns the local image named ref, never pulling it. It
	// fails with ErrImageNotFound when the image is not on the node.
	ImageStatus(ctx context.Context, ref string) (Image, error)
	// RemoveImage deletes the local image named ref. It fails with
	// ErrImageNotFound when there is none.
	RemoveImage(ctx context.Context, ref string) error
}

// SandboxService manages pod sandboxes: the network namespace (and its IP)
// that a pod's containers share.
type SandboxService interface {
	// RunSandbox creates a ready sandbox and returns its ID. The ID is
	// derived from the sandbox's metadata, so running the same metadata twice
	// fails with ErrAlreadyExists instead of making a duplicate.
	RunSandbox(ctx context.Context, cfg SandboxConfig) (string, error)
	// StopSandbox stops every container of the sandbox (with the default
	// grace period) and tears its network down. It is idempotent.
	StopSandbox(ctx context.Context, id string) error
	// RemoveSandbox stops the sandbox if needed, removes its containers and
	// deletes it.
	RemoveSandbox(ctx context.Context, id string) error
	// SandboxStatus reports one sandbox.
	SandboxStatus(ctx context.Context, id string) (SandboxStatus, error)
	// ListSandboxes reports the sandboxes that match f, sorted by ID.
	ListSandboxes(ctx context.Context, f SandboxFilter) ([]SandboxStatus, error)
}

// ContainerService manages the lifecycle of containers inside sandboxes.
type ContainerService interface {
	// CreateContainer creates a container in a ready sandbox and returns its
	// ID; the process is set up but not started. A command that cannot be
	// run in the image fails here with ErrInvalid, leaving nothing behind.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (string, error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, waits up to grace for the process to exit,
	// then sends SIGKILL. On return the container is Exited and its log
	// complete. Stopping a container that is not running is a no-op.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer kills the container if it runs and deletes it with its
	// root filesystem snapshot and its log file.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers reports the containers that match f, sorted by ID. An
	// Exited container's log is complete.
	ListContainers(ctx context.Context, f ContainerFilter) ([]ContainerStatus, error)
}

// ContainerInspector looks into containers and sandboxes: state, output,
// usage.
type ContainerInspector interface {
	// ContainerStatus reports one container. Once it reports Exited, the
	// container's log holds all the process wrote.
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)
	// Logs returns the container's output (see LogOptions). It works on
	// exited containers (a previous attempt) until they are removed.
	Logs(ctx context.Context, id string, opts LogOptions) (io.ReadCloser, error)
	// Stats reports the container's CPU and memory usage.
	Stats(ctx context.Context, id string) (ContainerStats, error)
	// SandboxStats reports the sandbox's network usage.
	SandboxStats(ctx context.Context, id string) (SandboxStats, error)
}

// StreamService connects clients to processes and ports inside pods: what
// kubectl exec, attach and port-forward need.
type StreamService interface {
	// Exec runs a process in the running container id, streaming its
	// input and output, and returns its exit code once it has exited and
	// its output is copied. A command the container cannot run fails with
	// ErrInvalid. When ctx ends first, the process is killed.
	Exec(ctx context.Context, id string, opts ExecOptions) (int, error)
	// Attach connects to the standard streams of the created or running
	// container id, until its output ends (it exited: nil) or ctx ends.
	// Output written before Attach is in the log, not repeated.
	Attach(ctx context.Context, id string, opts AttachOptions) error
	// PortForward connects to TCP port on the loopback address inside the
	// network namespace of the ready sandbox id.
	PortForward(ctx context.Context, id string, port uint16) (net.Conn, error)
}

// Runtime is everything a kubelet needs to run pods.
type Runtime interface {
	ImageService
	SandboxService
	ContainerService
	ContainerInspector
	StreamService
}
