package kubelet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// podContainerExtras adds to a container's runtime config what comes from
// the pod around it: the volume mounts, the pod's hosts file, the
// termination message file, and the security context.
func (k *Kubelet) podContainerExtras(pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container, img runtime.Image, cfg *runtime.ContainerConfig) error {
	mounts, err := k.volumeMounts(pod, c)
	if err != nil {
		return err
	}
	if !runtime.Mounted(mounts, "/etc/hosts") {
		hosts, err := k.writeHostsFile(pod, sb)
		if err != nil {
			return err
		}
		if hosts != "" {
			mounts = append(mounts, runtime.Mount{ContainerPath: "/etc/hosts", HostPath: hosts})
		}
	}
	if p := terminationMessagePath(c); !runtime.Mounted(mounts, p) {
		f, err := k.terminationLog(pod, c.Name, cfg.Attempt, true)
		if err != nil {
			return err
		}
		mounts = append(mounts, runtime.Mount{ContainerPath: p, HostPath: f})
	}
	cfg.Mounts = mounts
	sc, err := securityContext(pod, c)
	if err != nil {
		return err
	}
	if sc.Seccomp, err = k.seccompProfile(pod, c); err != nil {
		return err
	}
	if err := sc.CheckNonRoot(img.Name, img.User); err != nil {
		return fmt.Errorf("container has runAsNonRoot and image will run as root: %w", err)
	}
	cfg.Security = sc
	return nil
}

// securityContext merges the pod's and the container's security contexts
// (the container's fields win) into the runtime's: runAsUser, runAsGroup,
// runAsNonRoot, supplementalGroups plus fsGroup, readOnlyRootFilesystem,
// privileged, capabilities, allowPrivilegeEscalation: false as
// no_new_privs. The seccomp profile is seccompProfile's business.
func securityContext(pod *api.Pod, c *api.Container) (runtime.SecurityContext, error) {
	var sc runtime.SecurityContext
	psc, csc := pod.Spec.SecurityContext, c.SecurityContext
	if psc != nil {
		sc.RunAsUser, sc.RunAsGroup = psc.RunAsUser, psc.RunAsGroup
		sc.RunAsNonRoot = psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
		sc.SupplementalGroups = append(sc.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			sc.SupplementalGroups = append(sc.SupplementalGroups, *psc.FSGroup)
		}
	}
	if csc != nil {
		if csc.RunAsUser != nil {
			sc.RunAsUser = csc.RunAsUser
		}
		if csc.RunAsGroup != nil {
			sc.RunAsGroup = csc.RunAsGroup
		}
		if csc.RunAsNonRoot != nil {
			sc.RunAsNonRoot = *csc.RunAsNonRoot
		}
		sc.ReadOnlyRootFilesystem = csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem
		sc.Privileged = csc.Privileged != nil && *csc.Privileged
		if caps := csc.Capabilities; caps != nil {
			for _, a := range caps.Add {
				sc.Capabilities.Add = append(sc.Capabilities.Add, string(a))
			}
			for _, d := range caps.Drop {
				sc.Capabilities.Drop = append(sc.Capabilities.Drop, string(d))
			}
		}
		sc.NoNewPrivileges = csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation && !sc.Privileged
	}
	if err := sc.Validate(); err != nil {
		return sc, err
	}
	return sc, nil
}

// seccompProfile is the container's seccomp filter: the container's
// seccompProfile, else the pod's, else none (Unconfined, Kubernetes'
// default without the SeccompDefault kubelet option). RuntimeDefault is
// the runtime's default filter; Localhost reads localhostProfile, a path
// relative to Config.SeccompProfileRoot, as Kubernetes' kubelet does
// (there under <root-dir>/seccomp). A missing or unreadable profile fails
// the container (CreateContainerConfigError).
func (k *Kubelet) seccompProfile(pod *api.Pod, c *api.Container) (runtime.Seccomp, error) {
	var p *api.SeccompProfile
	if psc := pod.Spec.SecurityContext; psc != nil {
		p = psc.SeccompProfile
	}
	if csc := c.SecurityContext; csc != nil && csc.SeccompProfile != nil {
		p = csc.SeccompProfile
	}
	if p == nil {
		return runtime.Seccomp{}, nil
	}
	switch p.Type {
	case api.SeccompProfileTypeUnconfined:
		return runtime.Seccomp{}, nil
	case api.SeccompProfileTypeRuntimeDefault:
		return runtime.Seccomp{Type: runtime.SeccompRuntimeDefault}, nil
	case api.SeccompProfileTypeLocalhost:
	default:
		return runtime.Seccomp{}, fmt.Errorf("seccomp profile type %q is not one of RuntimeDefault, Localhost, Unconfined", p.Type)
	}
	if p.LocalhostProfile == nil || *p.LocalhostProfile == "" {
		return runtime.Seccomp{}, errors.New("seccomp profile type Localhost needs localhostProfile")
	}
	rel := *p.LocalhostProfile
	if !filepath.IsLocal(rel) {
		return runtime.Seccomp{}, fmt.Errorf("seccomp localhostProfile %q must be a relative path inside the profile root", rel)
	}
	path := filepath.Join(k.cfg.SeccompProfileRoot, rel)
	b, err := os.ReadFile(path)
	if err != nil {
		return runtime.Seccomp{}, fmt.Errorf("seccomp localhostProfile %q: %w", rel, err)
	}
	s := runtime.Seccomp{Type: runtime.SeccompLocalhost, Profile: b}
	if err := s.Validate(); err != nil {
		return runtime.Seccomp{}, fmt.Errorf("seccomp localhostProfile %q (%s): %w", rel, path, err)
	}
	return s, nil
}
