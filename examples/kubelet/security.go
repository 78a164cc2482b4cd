package kubelet

import (
	"fmt"

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
// no_new_privs. Seccomp profiles RuntimeDefault and Unconfined are
// accepted (the runtime applies no seccomp filter); Localhost is refused.
func securityContext(pod *api.Pod, c *api.Container) (runtime.SecurityContext, error) {
	var sc runtime.SecurityContext
	psc, csc := pod.Spec.SecurityContext, c.SecurityContext
	var seccomp *api.SeccompProfile
	if psc != nil {
		sc.RunAsUser, sc.RunAsGroup = psc.RunAsUser, psc.RunAsGroup
		sc.RunAsNonRoot = psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
		sc.SupplementalGroups = append(sc.SupplementalGroups, psc.SupplementalGroups...)
		if psc.FSGroup != nil {
			sc.SupplementalGroups = append(sc.SupplementalGroups, *psc.FSGroup)
		}
		seccomp = psc.SeccompProfile
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
		if csc.SeccompProfile != nil {
			seccomp = csc.SeccompProfile
		}
	}
	if seccomp != nil {
		switch seccomp.Type {
		case api.SeccompProfileTypeRuntimeDefault, api.SeccompProfileTypeUnconfined:
		default:
			return sc, fmt.Errorf("seccomp profile type %q is not supported (RuntimeDefault or Unconfined)", seccomp.Type)
		}
	}
	if err := sc.Validate(); err != nil {
		return sc, err
	}
	return sc, nil
}
