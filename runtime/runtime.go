package runtime

import (
	"context"
	"io"
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

// ContainerInspector looks into containers: state, output, probes, usage.
type ContainerInspector interface {
	// ContainerStatus reports one container. Once it reports Exited, the
	// container's log holds all the process wrote.
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)
	// Logs returns the container's combined stdout and stderr. With Follow,
	// the reader blocks for new output until the container exits or ctx ends.
	Logs(ctx context.Context, id string, opts LogOptions) (io.ReadCloser, error)
	// Exec runs cmd in the running container and waits for it.
	Exec(ctx context.Context, id string, cmd []string) (ExecResult, error)
	// Stats reports the container's CPU and memory usage.
	Stats(ctx context.Context, id string) (ContainerStats, error)
}

// Runtime is everything a kubelet needs to run pods.
type Runtime interface {
	ImageService
	SandboxService
	ContainerService
	ContainerInspector
}
