// Package netns creates and removes named network namespaces the way
// `ip netns` does: a bind mount of the namespace on a file in a directory
// (normally /var/run/netns), so that the namespace outlives the process that
// made it and anyone can join it by path.
package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Create makes a new network namespace and pins it at dir/name. It fails if
// the file exists. On failure nothing is left behind. Like `ip netns add`,
// it first makes dir a shared mount point (bind-mounting dir on itself when
// it is not one yet); that mount stays, so that namespaces pinned here and
// by iproute2 stay visible to both.
func Create(dir, name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("netns: bad name %q", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("netns: %w", err)
	}
	if err := sharedMountPoint(dir); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return "", fmt.Errorf("netns: create %s: %w", p, err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread enters a new namespace and is never unlocked, so Go
		// ends it when this goroutine returns instead of reusing it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		if err := unix.Mount(src, p, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind mount %s: %w", src, err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		os.Remove(p)
		return "", fmt.Errorf("netns: create %s: %w", p, err)
	}
	return p, nil
}

// sharedMountPoint makes dir a mount point with shared propagation, as
// iproute2's `ip netns add` does with /run/netns: it tries to mark dir
// shared and, when dir is not a mount point yet (EINVAL), bind-mounts dir
// on itself once and tries again. Had Create left dir a plain directory, a
// later `ip netns add` would bind-mount it over itself and so hide every
// namespace pinned in it until then (and Remove could no longer unmount
// them).
func sharedMountPoint(dir string) error {
	for bound := false; ; bound = true {
		err := unix.Mount("", dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || bound {
			return fmt.Errorf("netns: make %s a shared mount: %w", dir, err)
		}
		if err := unix.Mount(dir, dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("netns: bind mount %s on itself: %w", dir, err)
		}
	}
}

// Remove unpins the namespace at path and deletes the file. A missing path
// is not an error.
func Remove(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("netns: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("netns: remove %s: %w", path, err)
	}
	return nil
}

// IsNetNS reports whether path is a mounted network namespace.
func IsNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}
