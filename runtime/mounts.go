package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// MountType says what a Mount puts at its container path.
type MountType string

// The mount types.
const (
	// MountBind bind-mounts HostPath, a file or a directory of the node
	// (the default).
	MountBind MountType = "bind"
	// MountTmpfs mounts the sandbox's memory-backed volume Name (a tmpfs),
	// made on first use and shared by every container of the sandbox that
	// mounts the same Name, until the sandbox is removed: a Kubernetes
	// emptyDir with medium Memory.
	MountTmpfs MountType = "tmpfs"
)

// Mount puts a node path or a tmpfs volume into a container. Mounts are
// private: nothing mounted later on either side propagates to the other.
type Mount struct {
	// Type is MountBind (the default when empty) or MountTmpfs.
	Type MountType
	// ContainerPath is where the mount appears in the container: an
	// absolute, clean path other than "/". Required.
	ContainerPath string
	// HostPath is the node's file or directory a bind mount shows; it must
	// exist and be absolute. Single files work (as /etc/hosts does). Empty
	// for tmpfs.
	HostPath string
	// ReadOnly makes the mount read-only in the container.
	ReadOnly bool
	// Name names a tmpfs volume within its sandbox (a DNS label).
	// Required for tmpfs, unused for bind mounts.
	Name string
	// SizeLimit bounds a tmpfs volume in bytes; 0 leaves the kernel's
	// default (half the node's memory). Writes past it fail with ENOSPC.
	// Every mount of one volume must give the same limit.
	SizeLimit int64
}

// FilesProvided are the files the runtime gives every container unless a
// Mount replaces them: the sandbox's host name, hosts file and DNS
// configuration.
var FilesProvided = []string{"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}

func checkMounts(mounts []Mount) error {
	seen := map[string]int{}
	for i, m := range mounts {
		f := func(name string) string { return fmt.Sprintf("mounts[%d].%s", i, name) }
		p := m.ContainerPath
		switch {
		case p == "":
			return fieldErr(f("containerPath"), "", "is required")
		case !strings.HasPrefix(p, "/"):
			return fieldErr(f("containerPath"), p, "must be an absolute path")
		case path.Clean(p) != p || strings.Contains(p, "/../") || strings.HasSuffix(p, "/.."):
			return fieldErr(f("containerPath"), p, "must be a clean path (no .., no trailing or double slashes)")
		case p == "/":
			return fieldErr(f("containerPath"), p, "must not be the root")
		case strings.ContainsRune(p, 0) || strings.ContainsRune(p, ','):
			return fieldErr(f("containerPath"), p, "must not contain NUL or commas")
		}
		if j, dup := seen[p]; dup {
			return fieldErr(f("containerPath"), p, fmt.Sprintf("is also the path of mounts[%d]", j))
		}
		seen[p] = i
		switch m.Type {
		case "", MountBind:
			if m.HostPath == "" {
				return fieldErr(f("hostPath"), "", "is required for the bind mount at "+p)
			}
			if !strings.HasPrefix(m.HostPath, "/") {
				return fieldErr(f("hostPath"), m.HostPath, "must be an absolute path (bind mount at "+p+")")
			}
			if strings.ContainsRune(m.HostPath, 0) || strings.ContainsRune(m.HostPath, ',') {
				return fieldErr(f("hostPath"), m.HostPath, "must not contain NUL or commas")
			}
			if m.Name != "" || m.SizeLimit != 0 {
				return fieldErr(f("name"), m.Name, "name and sizeLimit are for tmpfs mounts only (bind mount at "+p+")")
			}
		case MountTmpfs:
			if m.HostPath != "" {
				return fieldErr(f("hostPath"), m.HostPath, "must be empty for the tmpfs mount at "+p)
			}
			if err := checkDNS(f("name"), m.Name, 63, false); err != nil {
				return err
			}
			if m.SizeLimit < 0 {
				return fieldErr(f("sizeLimit"), strconv.FormatInt(m.SizeLimit, 10), "must not be negative (tmpfs mount at "+p+")")
			}
		default:
			return fieldErr(f("type"), string(m.Type), "must be bind or tmpfs (mount at "+p+")")
		}
	}
	for i, m := range mounts {
		if m.Type != MountTmpfs {
			continue
		}
		for j := i + 1; j < len(mounts); j++ {
			if o := mounts[j]; o.Type == MountTmpfs && o.Name == m.Name && o.SizeLimit != m.SizeLimit {
				return fieldErr(fmt.Sprintf("mounts[%d].sizeLimit", j), strconv.FormatInt(o.SizeLimit, 10),
					fmt.Sprintf("differs from mounts[%d] of the same tmpfs volume %q", i, m.Name))
			}
		}
	}
	return nil
}

// CheckHost checks what Validate cannot without looking at the node: that
// the source of every bind mount exists. The error is a *FieldError naming
// the mount. Runtimes call it before they create anything.
func (cfg ContainerConfig) CheckHost() error {
	for i, m := range cfg.Mounts {
		if m.Type == MountTmpfs {
			continue
		}
		if _, err := os.Stat(m.HostPath); err != nil {
			reason := "cannot be read: " + err.Error()
			if errors.Is(err, fs.ErrNotExist) {
				reason = "does not exist"
			}
			return fieldErr(fmt.Sprintf("mounts[%d].hostPath", i), m.HostPath, reason+" (bind mount at "+m.ContainerPath+")")
		}
	}
	return nil
}

// Mounted reports whether one of mounts replaces the container file p.
func Mounted(mounts []Mount, p string) bool {
	for _, m := range mounts {
		if m.ContainerPath == p {
			return true
		}
	}
	return false
}
