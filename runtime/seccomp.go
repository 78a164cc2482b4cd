package runtime

import (
	"encoding/json"
	"fmt"
)

// SeccompType says which seccomp filter a container's processes run
// under.
type SeccompType string

// The seccomp filters, named like Kubernetes' seccompProfile types.
const (
	// SeccompUnconfined (the zero value) applies no filter.
	SeccompUnconfined SeccompType = ""
	// SeccompRuntimeDefault applies the runtime's default filter (for
	// containerd, its default profile: the one Docker made, which blocks
	// among others mount, unshare, reboot, kexec_load and the keyring
	// calls unless the container has the capability they need).
	SeccompRuntimeDefault SeccompType = "RuntimeDefault"
	// SeccompLocalhost applies the profile in Seccomp.Profile.
	SeccompLocalhost SeccompType = "Localhost"
)

// Seccomp is a container's seccomp filter. A privileged container runs
// without one, whatever this says (as containerd's CRI does).
type Seccomp struct {
	// Type picks the filter.
	Type SeccompType
	// Profile is, for SeccompLocalhost, the profile itself (not a path):
	// a JSON object in the OCI runtime spec's LinuxSeccomp form (Docker's
	// seccomp profile format, as in Kubernetes' localhost profiles), with
	// at least "defaultAction". Empty for the other types.
	Profile []byte
}

// Validate reports an unknown type, or a profile that is missing, not a
// JSON object or without a defaultAction.
func (s Seccomp) Validate() error {
	switch s.Type {
	case SeccompUnconfined, SeccompRuntimeDefault:
		if len(s.Profile) != 0 {
			return fieldErr("security.seccomp.profile", "", fmt.Sprintf("must be empty for type %q", s.Type))
		}
		return nil
	case SeccompLocalhost:
	default:
		return fieldErr("security.seccomp.type", string(s.Type), `must be "", "RuntimeDefault" or "Localhost"`)
	}
	var p struct {
		DefaultAction string `json:"defaultAction"`
	}
	if err := json.Unmarshal(s.Profile, &p); err != nil {
		return fieldErr("security.seccomp.profile", "", fmt.Sprintf("is not a JSON seccomp profile: %v", err))
	}
	if p.DefaultAction == "" {
		return fieldErr("security.seccomp.profile", "", "has no defaultAction")
	}
	return nil
}
