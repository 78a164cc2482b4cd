package kubelet

import (
	"context"
	"fmt"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// sandboxConfig is the runtime's view of a pod's sandbox: its identity,
// host name (spec.hostname, else the pod's name), network and host ports.
func (k *Kubelet) sandboxConfig(pod *api.Pod, attempt uint32) (runtime.SandboxConfig, error) {
	cfg := runtime.SandboxConfig{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID), Attempt: attempt,
		Hostname: pod.Spec.Hostname, HostNetwork: pod.Spec.HostNetwork}
	cfg.DNS = k.dnsConfig(pod)
	for _, c := range append(append([]api.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, p := range c.Ports {
			if p.HostPort == 0 || pod.Spec.HostNetwork {
				continue
			}
			if p.HostPort < 0 || p.HostPort > 65535 || p.ContainerPort <= 0 || p.ContainerPort > 65535 {
				return cfg, fmt.Errorf("container %s: port %d:%d out of range", c.Name, p.HostPort, p.ContainerPort)
			}
			cfg.PortMappings = append(cfg.PortMappings, runtime.PortMapping{Protocol: runtime.Protocol(p.Protocol),
				ContainerPort: uint16(p.ContainerPort), HostPort: uint16(p.HostPort), HostIP: p.HostIP})
		}
	}
	return cfg, nil
}

// containerConfig is the runtime's view of one container: command, args,
// working directory, environment (values, downward API, ConfigMap and
// Secret keys, envFrom), resources.
func (k *Kubelet) containerConfig(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container, img runtime.Image, attempt uint32) (runtime.ContainerConfig, error) {
	cfg := runtime.ContainerConfig{Name: c.Name, Attempt: attempt, Image: img.Name, Command: c.Command, Args: c.Args,
		WorkingDir: c.WorkingDir, Stdin: c.Stdin, StdinOnce: c.StdinOnce, TTY: c.TTY}
	if cfg.Image == "" {
		cfg.Image = c.Image
	}
	env, err := k.environment(ctx, pod, sb, c)
	if err != nil {
		return cfg, err
	}
	cfg.Env = env
	if err := k.podContainerExtras(pod, sb, c, img, &cfg); err != nil {
		return cfg, err
	}
	lim := c.Resources.Limits
	if q, ok := lim[api.ResourceMemory]; ok {
		cfg.Resources.MemoryLimit = q.Value()
	}
	if q, ok := lim[api.ResourceCPU]; ok && q.MilliValue() > 0 {
		cfg.Resources.CPUPeriod = 100000
		cfg.Resources.CPUQuota = max(q.MilliValue()*100, 1000)
	}
	if q, ok := c.Resources.Requests[api.ResourceCPU]; ok && q.MilliValue() > 0 {
		cfg.Resources.CPUShares = uint64(min(max(q.MilliValue()*1024/1000, 2), 262144))
	}
	return cfg, nil
}

// environment builds a container's environment as Kubernetes does:
// envFrom first (in order, with prefixes), then env, where $(VAR)
// references to earlier variables are expanded.
func (k *Kubelet) environment(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container) ([]string, error) {
	vals := map[string]string{}
	var order []string
	set := func(name, v string) {
		if _, ok := vals[name]; !ok {
			order = append(order, name)
		}
		vals[name] = v
	}
	svc, err := k.serviceEnv(ctx, pod)
	if err != nil {
		return nil, err
	}
	for _, kv := range svc {
		set(kv[0], kv[1])
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := k.configMap(ctx, pod, from.ConfigMapRef.Name)
			if err != nil {
				if isNotFound(err) && from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", from.ConfigMapRef.Name)
			}
			for key, v := range cm.Data {
				set(from.Prefix+key, v)
			}
		case from.SecretRef != nil:
			s, err := k.secret(ctx, pod, from.SecretRef.Name)
			if err != nil {
				if isNotFound(err) && from.SecretRef.Optional != nil && *from.SecretRef.Optional {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", from.SecretRef.Name)
			}
			for key, v := range s.Data {
				set(from.Prefix+key, string(v))
			}
		}
	}
	for _, e := range c.Env {
		v := expand(e.Value, vals)
		if src := e.ValueFrom; src != nil {
			var err error
			var skip bool
			if v, skip, err = k.envSource(ctx, pod, sb, c, src); err != nil {
				return nil, fmt.Errorf("env %s: %w", e.Name, err)
			} else if skip {
				continue
			}
		}
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, name := range order {
		out = append(out, name+"="+vals[name])
	}
	return out, nil
}

// envSource resolves one valueFrom; skip reports an optional key that is
// missing.
func (k *Kubelet) envSource(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container, src *api.EnvVarSource) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := k.podField(pod, sb, src.FieldRef.FieldPath)
		return v, false, err
	case src.ResourceFieldRef != nil:
		return resourceField(pod, c, src.ResourceFieldRef)
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		optional := ref.Optional != nil && *ref.Optional
		cm, err := k.configMap(ctx, pod, ref.Name)
		if err != nil {
			if isNotFound(err) && optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", ref.Name)
		}
		v, ok := cm.Data[ref.Key]
		if !ok && !optional {
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, !ok, nil
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		optional := ref.Optional != nil && *ref.Optional
		s, err := k.secret(ctx, pod, ref.Name)
		if err != nil {
			if isNotFound(err) && optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("secret %q not found", ref.Name)
		}
		v, ok := s.Data[ref.Key]
		if !ok && !optional {
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), !ok, nil
	}
	return "", false, fmt.Errorf("valueFrom names no source")
}

// podField is the downward API's fieldRef.
func (k *Kubelet) podField(pod *api.Pod, sb *runtime.SandboxStatus, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return k.cfg.NodeIP, nil
	case "status.podIP", "status.podIPs":
		if sb != nil {
			return sb.IP, nil
		}
		return "", nil
	}
	if l, ok := cutBracket(path, "metadata.labels"); ok {
		return pod.Labels[l], nil
	}
	if a, ok := cutBracket(path, "metadata.annotations"); ok {
		return pod.Annotations[a], nil
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// cutBracket parses prefix['key'].
func cutBracket(path, prefix string) (string, bool) {
	if len(path) < len(prefix)+4 || path[:len(prefix)] != prefix || path[len(prefix):len(prefix)+2] != "['" || path[len(path)-2:] != "']" {
		return "", false
	}
	return path[len(prefix)+2 : len(path)-2], true
}

// resourceField is the downward API's resourceFieldRef: a limit or
// request of the container, divided by the divisor (rounded up); a missing
// limit is the node's allocatable.
func resourceField(pod *api.Pod, c *api.Container, ref *api.ResourceFieldSelector) (string, bool, error) {
	if ref.ContainerName != "" {
		found := false
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				c, found = &pod.Spec.Containers[i], true
			}
		}
		if !found {
			return "", false, fmt.Errorf("resourceFieldRef: no container %q", ref.ContainerName)
		}
	}
	var list api.ResourceList
	var name api.ResourceName
	switch ref.Resource {
	case "limits.cpu", "limits.memory", "limits.ephemeral-storage":
		list, name = c.Resources.Limits, api.ResourceName(ref.Resource[len("limits."):])
	case "requests.cpu", "requests.memory", "requests.ephemeral-storage":
		list, name = c.Resources.Requests, api.ResourceName(ref.Resource[len("requests."):])
	default:
		return "", false, fmt.Errorf("resourceFieldRef: unsupported resource %q", ref.Resource)
	}
	q, ok := list[name]
	if !ok {
		return "0", false, nil
	}
	div := ref.Divisor
	if div.IsZero() {
		div = api.NewQuantity(1, api.DecimalSI)
	}
	if name == api.ResourceCPU {
		m, d := q.MilliValue(), div.MilliValue()
		return strconv.FormatInt((m+d-1)/d, 10), false, nil
	}
	v, d := q.Value(), div.Value()
	return strconv.FormatInt((v+d-1)/d, 10), false, nil
}

// expand replaces $(VAR) with earlier variables' values; $$ escapes.
func expand(s string, vals map[string]string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			out = append(out, s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			out = append(out, '$')
			i++
			continue
		case '(':
			end := -1
			for j := i + 2; j < len(s); j++ {
				if s[j] == ')' {
					end = j
					break
				}
			}
			if end > 0 {
				if v, ok := vals[s[i+2:end]]; ok {
					out = append(out, v...)
					i = end
					continue
				}
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}
