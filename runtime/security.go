package runtime

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// SecurityContext is what a container may do: as whom it runs, with which
// capabilities and privileges. The zero value runs as the image's user with
// DefaultCapabilities, like Kubernetes' defaults on containerd.
type SecurityContext struct {
	// RunAsUser and RunAsGroup, when set, replace the image's user and
	// group (runAsUser, runAsGroup). With RunAsUser alone, the group is
	// the user's group in the image's /etc/passwd, or 0.
	RunAsUser  *int64
	RunAsGroup *int64
	// SupplementalGroups are added to the process's groups, besides its
	// primary group.
	SupplementalGroups []int64
	// RunAsNonRoot refuses to create the container when it would run as
	// root (uid 0): RunAsUser 0, or no RunAsUser and an image whose user is
	// root, unset, or a name that cannot be verified without reading the
	// image's /etc/passwd (as Kubernetes does).
	RunAsNonRoot bool
	// ReadOnlyRootFilesystem mounts the image's file system read-only;
	// mounts stay writable unless ReadOnly.
	ReadOnlyRootFilesystem bool
	// Privileged gives every capability, every device and writable /sys;
	// Capabilities are then ignored.
	Privileged bool
	// Capabilities adds and drops capabilities from DefaultCapabilities.
	Capabilities Capabilities
	// NoNewPrivileges sets the process's no_new_privs bit, so it cannot
	// gain privileges by executing set-user-ID files or files with
	// capabilities (allowPrivilegeEscalation: false).
	NoNewPrivileges bool
	// Seccomp is the seccomp filter (seccompProfile); the zero value
	// applies none.
	Seccomp Seccomp
}

// Capabilities are Linux capability names, with or without the "CAP_"
// prefix, in any case (for example "NET_ADMIN"); "ALL" means every one.
// ALL in Add starts from every capability, ALL in Drop from none; the
// other names are then added and dropped, Drop last.
type Capabilities struct {
	Add  []string
	Drop []string
}

// DefaultCapabilities are the capabilities a container's root process gets
// unless changed: the default set of containerd and Docker.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
}

// AllCapabilities lists the Linux capabilities by number (CAP_CHOWN is 0).
var AllCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

var capNumbers = func() map[string]int {
	m := make(map[string]int, len(AllCapabilities))
	for i, c := range AllCapabilities {
		m[c] = i
	}
	return m
}()

// normalizeCap returns the "CAP_X" form of a capability name, or "ALL".
func normalizeCap(name string) (string, bool) {
	n := strings.ToUpper(name)
	if n == "ALL" {
		return n, true
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	_, ok := capNumbers[n]
	return n, ok
}

// CapabilitySet returns the bounding, permitted and effective capabilities
// of a process running as root in a container with sc, sorted by number.
// (A process running as another user keeps none of them effective once it
// executes its program, as on Linux without ambient capabilities.)
func (sc SecurityContext) CapabilitySet() []string {
	if sc.Privileged {
		return append([]string(nil), AllCapabilities...)
	}
	set := map[string]bool{}
	for _, c := range DefaultCapabilities {
		set[c] = true
	}
	has := func(l []string) bool {
		for _, c := range l {
			if strings.EqualFold(c, "ALL") {
				return true
			}
		}
		return false
	}
	if has(sc.Capabilities.Add) {
		for _, c := range AllCapabilities {
			set[c] = true
		}
	}
	if has(sc.Capabilities.Drop) {
		set = map[string]bool{}
	}
	for _, c := range sc.Capabilities.Add {
		if n, ok := normalizeCap(c); ok && n != "ALL" {
			set[n] = true
		}
	}
	for _, c := range sc.Capabilities.Drop {
		if n, ok := normalizeCap(c); ok && n != "ALL" {
			delete(set, n)
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return capNumbers[out[i]] < capNumbers[out[j]] })
	return out
}

// CapabilityMask returns caps as the bit mask /proc/<pid>/status shows in
// CapEff. Unknown names are ignored.
func CapabilityMask(caps []string) uint64 {
	var m uint64
	for _, c := range caps {
		if n, ok := capNumbers[c]; ok {
			m |= 1 << n
		}
	}
	return m
}

// Validate checks sc. The error is a *FieldError naming the field.
func (sc SecurityContext) Validate() error {
	checkID := func(field string, v *int64) error {
		if v != nil && (*v < 0 || *v > math.MaxInt32) {
			return fieldErr(field, strconv.FormatInt(*v, 10), fmt.Sprintf("must be between 0 and %d", math.MaxInt32))
		}
		return nil
	}
	if err := checkID("security.runAsUser", sc.RunAsUser); err != nil {
		return err
	}
	if err := checkID("security.runAsGroup", sc.RunAsGroup); err != nil {
		return err
	}
	for i := range sc.SupplementalGroups {
		if err := checkID(fmt.Sprintf("security.supplementalGroups[%d]", i), &sc.SupplementalGroups[i]); err != nil {
			return err
		}
	}
	if sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		return fieldErr("security.runAsNonRoot", "", "is set, but runAsUser is 0 (root)")
	}
	if err := sc.Seccomp.Validate(); err != nil {
		return err
	}
	if sc.Privileged && sc.NoNewPrivileges {
		return fieldErr("security.noNewPrivileges", "", "cannot be set for a privileged container")
	}
	for field, l := range map[string][]string{"add": sc.Capabilities.Add, "drop": sc.Capabilities.Drop} {
		for i, c := range l {
			if _, ok := normalizeCap(c); !ok {
				return fieldErr(fmt.Sprintf("security.capabilities.%s[%d]", field, i), c, "is not a Linux capability")
			}
		}
	}
	return nil
}

// ImageUser is an image's configured user split into its parts.
type ImageUser struct {
	// UID and GID are the numeric parts, when numeric.
	UID, GID *int64
	// User and Group are the parts given by name.
	User, Group string
}

// ParseImageUser splits an image's user setting: "", "uid", "uid:gid",
// "name", "name:group" and the mixed forms. An empty setting is root.
func ParseImageUser(s string) (ImageUser, error) {
	var u ImageUser
	user, group, hasGroup := strings.Cut(s, ":")
	part := func(p string, id **int64, name *string, what string) error {
		if p == "" {
			return fmt.Errorf("image user %q: empty %s", s, what)
		}
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			if n < 0 || n > math.MaxInt32 {
				return fmt.Errorf("image user %q: %s %d out of range", s, what, n)
			}
			*id = &n
			return nil
		}
		if strings.ContainsAny(p, " \t\n:/") {
			return fmt.Errorf("image user %q: bad %s name", s, what)
		}
		*name = p
		return nil
	}
	if s == "" {
		zero := int64(0)
		u.UID = &zero
		return u, nil
	}
	if err := part(user, &u.UID, &u.User, "user"); err != nil {
		return ImageUser{}, err
	}
	if hasGroup {
		if err := part(group, &u.GID, &u.Group, "group"); err != nil {
			return ImageUser{}, err
		}
	}
	return u, nil
}

// CheckNonRoot enforces sc.RunAsNonRoot against the user of image (named
// for the message), whose configured user is imageUser. It returns nil when
// RunAsNonRoot is not set.
func (sc SecurityContext) CheckNonRoot(image, imageUser string) error {
	if !sc.RunAsNonRoot {
		return nil
	}
	if sc.RunAsUser != nil {
		if *sc.RunAsUser == 0 {
			return fieldErr("security.runAsNonRoot", "", "is set, but runAsUser is 0 (root)")
		}
		return nil
	}
	u, err := ParseImageUser(imageUser)
	switch {
	case err != nil:
		return fieldErr("security.runAsNonRoot", "", fmt.Sprintf("cannot verify that image %s runs as non-root: %v", image, err))
	case u.UID == nil && u.User == "root":
		return fieldErr("security.runAsNonRoot", "", fmt.Sprintf("is set, but image %s runs as root (user %q) and runAsUser is not set", image, imageUser))
	case u.UID == nil:
		return fieldErr("security.runAsNonRoot", "", fmt.Sprintf("is set, but image %s has non-numeric user %q, which cannot be verified as non-root; set runAsUser", image, imageUser))
	case *u.UID == 0:
		return fieldErr("security.runAsNonRoot", "", fmt.Sprintf("is set, but image %s runs as root (user %q) and runAsUser is not set", image, imageUser))
	}
	return nil
}
