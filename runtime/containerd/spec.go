package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/setpoint-dev/setpoint/runtime"
)

// bindMount is an OCI bind mount of src at dst, private, read-only or not.
func bindMount(dst, src string, readOnly bool) specs.Mount {
	mode := "rw"
	if readOnly {
		mode = "ro"
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"rbind", "rprivate", mode}}
}

// mountOpts returns the container's mounts: the sandbox's tmpfs volumes
// (mounted on the node on first use; undo unmounts those this call made)
// and bind mounts, in the caller's order.
func (r *Runtime) mountOpts(sandboxID string, mounts []runtime.Mount) (_ oci.SpecOpts, _ func(), err error) {
	var made []string
	undo := func() {
		for _, dir := range made {
			unix.Unmount(dir, unix.MNT_DETACH)
			os.Remove(dir)
			os.Remove(dir + ".size")
		}
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	var out []specs.Mount
	for i, m := range mounts {
		src := m.HostPath
		if m.Type == runtime.MountTmpfs {
			dir, mounted, err := r.tmpfsVolume(sandboxID, i, m)
			if err != nil {
				return nil, nil, err
			}
			if mounted {
				made = append(made, dir)
			}
			src = dir
		}
		out = append(out, bindMount(m.ContainerPath, src, m.ReadOnly))
	}
	return oci.WithMounts(out), undo, nil
}

// volumesDir holds a sandbox's tmpfs volumes: <name> is the mount point,
// <name>.size its size limit.
func (r *Runtime) volumesDir(sandboxID string) string {
	return filepath.Join(r.sandboxDir(sandboxID), "tmpfs")
}

// tmpfsVolume returns the mount point of the sandbox's tmpfs volume of m,
// mounting it when it is not (then mounted is true).
func (r *Runtime) tmpfsVolume(sandboxID string, i int, m runtime.Mount) (dir string, mounted bool, err error) {
	dir = filepath.Join(r.volumesDir(sandboxID), m.Name)
	sizeFile := dir + ".size"
	is, err := mountinfo.Mounted(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("tmpfs volume %q of sandbox %s: %w", m.Name, sandboxID, err)
	}
	if is {
		b, err := os.ReadFile(sizeFile)
		if err != nil {
			return "", false, fmt.Errorf("tmpfs volume %q of sandbox %s: %w", m.Name, sandboxID, err)
		}
		if have, _ := strconv.ParseInt(string(b), 10, 64); have != m.SizeLimit {
			return "", false, &runtime.FieldError{Field: fmt.Sprintf("mounts[%d].sizeLimit", i), Value: strconv.FormatInt(m.SizeLimit, 10),
				Reason: fmt.Sprintf("differs from the size limit %d of tmpfs volume %q of sandbox %s", have, m.Name, sandboxID)}
		}
		return dir, false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("tmpfs volume %q of sandbox %s: %w", m.Name, sandboxID, err)
	}
	opts := "mode=1777"
	if m.SizeLimit > 0 {
		opts += ",size=" + strconv.FormatInt(m.SizeLimit, 10)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		os.Remove(dir)
		return "", false, fmt.Errorf("tmpfs volume %q of sandbox %s: mount: %w", m.Name, sandboxID, err)
	}
	if err := os.WriteFile(sizeFile, []byte(strconv.FormatInt(m.SizeLimit, 10)), 0o644); err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
		os.Remove(dir)
		return "", false, fmt.Errorf("tmpfs volume %q of sandbox %s: %w", m.Name, sandboxID, err)
	}
	return dir, true, nil
}

// unmountVolumes unmounts every tmpfs volume of the sandbox.
func (r *Runtime) unmountVolumes(sandboxID string) error {
	ents, err := os.ReadDir(r.volumesDir(sandboxID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(r.volumesDir(sandboxID), e.Name())
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount tmpfs volume %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// securityOpts applies the container's security context. They come after
// the image's configuration, which sets the image's user.
func securityOpts(sc runtime.SecurityContext) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if sc.RunAsUser != nil {
		opts = append(opts, oci.WithUserID(uint32(*sc.RunAsUser)))
	}
	if sc.RunAsGroup != nil {
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			s.Process.User.GID = uint32(*sc.RunAsGroup)
			return nil
		})
	}
	if sc.RunAsUser != nil || sc.RunAsGroup != nil {
		// The groups of the user now running (its /etc/group memberships
		// and primary group), not those of the image's user.
		opts = append(opts, func(ctx context.Context, cl oci.Client, c *containers.Container, s *oci.Spec) error {
			gid := s.Process.User.GID
			if err := oci.WithAdditionalGIDs(strconv.FormatUint(uint64(s.Process.User.UID), 10))(ctx, cl, c, s); err != nil {
				return err
			}
			s.Process.User.GID = gid
			return nil
		})
	}
	opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		groups := map[uint32]bool{s.Process.User.GID: true}
		for _, g := range s.Process.User.AdditionalGids {
			groups[g] = true
		}
		for _, g := range sc.SupplementalGroups {
			groups[uint32(g)] = true
		}
		ids := make([]uint32, 0, len(groups))
		for g := range groups {
			ids = append(ids, g)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		s.Process.User.AdditionalGids = ids
		// containerd's default spec sets no_new_privs; Kubernetes'
		// default (allowPrivilegeEscalation) does not.
		s.Process.NoNewPrivileges = sc.NoNewPrivileges
		return nil
	})
	if sc.Privileged {
		opts = append(opts, oci.WithPrivileged, oci.WithAllDevicesAllowed, oci.WithHostDevices)
	} else {
		opts = append(opts, oci.WithCapabilities(sc.CapabilitySet()))
	}
	if sc.ReadOnlyRootFilesystem {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	// Seccomp last: the default profile allows calls by the capabilities
	// set above. containerd's default spec has no filter.
	switch {
	case sc.Privileged:
	case sc.Seccomp.Type == runtime.SeccompRuntimeDefault:
		opts = append(opts, seccomp.WithDefaultProfile())
	case sc.Seccomp.Type == runtime.SeccompLocalhost:
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			var p specs.LinuxSeccomp
			if err := json.Unmarshal(sc.Seccomp.Profile, &p); err != nil {
				return fmt.Errorf("%w: security.seccomp.profile: %v", runtime.ErrInvalid, err)
			}
			s.Linux.Seccomp = &p
			return nil
		})
	default:
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			s.Linux.Seccomp = nil
			return nil
		})
	}
	return opts
}

// cgroupMount shows the container its cgroups at /sys/fs/cgroup, read-only
// (privileged containers get it writable), as Kubernetes containers see
// them.
var cgroupMount = oci.WithMounts([]specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
	Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}})

// resourceOpts applies the container's limits.
func resourceOpts(res runtime.Resources) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if res.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(res.CPUShares))
	}
	if res.CPUQuota > 0 {
		period := res.CPUPeriod
		if period == 0 {
			period = runtime.DefaultCPUPeriod
		}
		opts = append(opts, oci.WithCPUCFS(res.CPUQuota, period))
	}
	if res.MemoryLimit > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(res.MemoryLimit)))
	}
	if res.PidsLimit > 0 {
		opts = append(opts, oci.WithPidsLimit(res.PidsLimit))
	}
	return opts
}

// sandboxSpecOpts joins a container to its sandbox's network namespace and
// gives it the sandbox's host name and the files the runtime provides
// (/etc/hostname, /etc/hosts, /etc/resolv.conf) unless mounts replace them.
func (r *Runtime) sandboxSpecOpts(rec containers.Container, mounts []runtime.Mount) []oci.SpecOpts {
	opts := []oci.SpecOpts{oci.WithHostname(rec.Labels[labelHostname])}
	dir := r.sandboxDir(rec.ID)
	hostNet := rec.Labels[labelHostNet] == "true"
	if hostNet {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace))
	} else {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: rec.Labels[labelNetNS]}))
	}
	var files []specs.Mount
	for _, p := range runtime.FilesProvided {
		if runtime.Mounted(mounts, p) {
			continue
		}
		src := filepath.Join(dir, filepath.Base(p))
		switch {
		case p == "/etc/hosts" && hostNet:
			src = "/etc/hosts"
		case p == "/etc/resolv.conf" && rec.Labels[labelDNS] != "true":
			src = "/etc/resolv.conf"
		}
		files = append(files, bindMount(p, src, true))
	}
	return append(opts, oci.WithMounts(files))
}
