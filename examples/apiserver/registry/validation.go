package registry

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
)

func validateNamespace(n *api.Namespace) store.FieldErrors {
	var e errs
	switch n.Status.Phase {
	case "", api.NamespaceActive, api.NamespaceTerminating:
	default:
		e.notSupported("status.phase", n.Status.Phase, api.NamespaceActive, api.NamespaceTerminating)
	}
	return e.list
}

// validateNamespaceUpdate: the phase is Terminating exactly when the
// namespace is being deleted, as Kubernetes' ValidateNamespaceStatusUpdate
// says, and spec.finalizers are finalizer names.
func validateNamespaceUpdate(old, n *api.Namespace) store.FieldErrors {
	var e errs
	switch {
	case old.DeletionTimestamp == nil && n.Status.Phase != api.NamespaceActive:
		e.add("status.phase", n.Status.Phase, `Invalid value: may only be "Active" if metadata.deletionTimestamp is empty`)
	case old.DeletionTimestamp != nil && n.Status.Phase != api.NamespaceTerminating:
		e.add("status.phase", n.Status.Phase, `Invalid value: may only be "Terminating" if metadata.deletionTimestamp is not empty`)
	}
	validateFinalizerNames(&e, "spec.finalizers", n.Spec.Finalizers)
	return e.list
}

// ValidateNamespaceFinalizers checks the spec.finalizers a finalize
// request writes: standard ("kubernetes") or qualified names.
func ValidateNamespaceFinalizers(finalizers []api.FinalizerName) error {
	var e errs
	validateFinalizerNames(&e, "spec.finalizers", finalizers)
	return e.list.ErrOrNil()
}

func validateFinalizerNames(e *errs, path string, names []api.FinalizerName) {
	for i, name := range names {
		if name == api.FinalizerKubernetes {
			continue
		}
		f := string(name)
		if why := qualifiedName(f); why != "" || !strings.Contains(f, "/") {
			if why == "" {
				why = "name is neither a standard finalizer name nor is it fully qualified"
			}
			e.add(idx(path, i), f, "Invalid value: "+why)
		}
	}
}

func validateNode(n *api.Node) store.FieldErrors {
	var e errs
	if n.Spec.PodCIDR != "" {
		if _, err := netip.ParsePrefix(n.Spec.PodCIDR); err != nil {
			e.add("spec.podCIDR", n.Spec.PodCIDR, "Invalid value: must be a valid CIDR")
		}
	}
	for i, c := range n.Spec.PodCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			e.add(idx("spec.podCIDRs", i), c, "Invalid value: must be a valid CIDR")
		}
	}
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		p := idx("spec.taints", i)
		validateTaintKeyEffect(&e, p, t.Key, t.Effect, false)
		if why := labelValue(t.Value); why != "" {
			e.add(p+".value", t.Value, "Invalid value: "+why)
		}
		if k := t.Key + ":" + string(t.Effect); seen[k] {
			e.add(p, k, "Duplicate value: taints must be unique by key and effect")
		} else {
			seen[k] = true
		}
	}
	validateResourceList(&e, "status.capacity", n.Status.Capacity)
	validateResourceList(&e, "status.allocatable", n.Status.Allocatable)
	return e.list
}

func validateTaintKeyEffect(e *errs, p, key string, effect api.TaintEffect, allowEmptyEffect bool) {
	if key == "" {
		e.required(p+".key", "a taint key")
	} else if why := qualifiedName(key); why != "" {
		e.add(p+".key", key, "Invalid value: "+why)
	}
	switch effect {
	case api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute:
	case "":
		if !allowEmptyEffect {
			e.required(p+".effect", "a taint effect")
		}
	default:
		e.notSupported(p+".effect", effect, api.TaintEffectNoExecute, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule)
	}
}

func validatePod(p *api.Pod) store.FieldErrors {
	var e errs
	validatePodSpec(&e, "spec", &p.Spec)
	switch p.Status.Phase {
	case "", api.PodPending, api.PodRunning, api.PodSucceeded, api.PodFailed, api.PodUnknown:
	default:
		e.notSupported("status.phase", p.Status.Phase, api.PodFailed, api.PodPending, api.PodRunning, api.PodSucceeded, api.PodUnknown)
	}
	if p.Status.PodIP != "" {
		validateIP(&e, "status.podIP", p.Status.PodIP)
	}
	for i, ip := range p.Status.PodIPs {
		validateIP(&e, idx("status.podIPs", i)+".ip", ip.IP)
	}
	if p.Status.HostIP != "" {
		validateIP(&e, "status.hostIP", p.Status.HostIP)
	}
	for i, cs := range p.Status.ContainerStatuses {
		validateNonNegative(&e, idx("status.containerStatuses", i)+".restartCount", int64(cs.RestartCount))
	}
	return e.list
}

func validatePodSpec(e *errs, path string, s *api.PodSpec) {
	volumes := map[string]bool{}
	for i, v := range s.Volumes {
		p := idx(path+".volumes", i)
		if v.Name == "" {
			e.required(p+".name", "a volume name")
		} else if why := dnsLabel(v.Name); why != "" {
			e.add(p+".name", v.Name, "Invalid value: "+why)
		} else if volumes[v.Name] {
			e.add(p+".name", v.Name, "Duplicate value")
		}
		volumes[v.Name] = true
		n := 0
		if v.HostPath != nil {
			n++
			if v.HostPath.Path == "" {
				e.required(p+".hostPath.path", "a path")
			}
		}
		if v.EmptyDir != nil {
			n++
			if v.EmptyDir.SizeLimit != nil && v.EmptyDir.SizeLimit.Sign() < 0 {
				e.add(p+".emptyDir.sizeLimit", v.EmptyDir.SizeLimit.String(), "Invalid value: must be greater than or equal to 0")
			}
		}
		if v.ConfigMap != nil {
			n++
		}
		if n != 1 {
			e.add(p, "", fmt.Sprintf("Invalid value: must specify exactly one volume source, found %d", n))
		}
	}
	if len(s.Containers) == 0 {
		e.required(path+".containers", "at least one container")
	}
	names := map[string]bool{}
	for i := range s.InitContainers {
		validateContainer(e, idx(path+".initContainers", i), &s.InitContainers[i], names, volumes, true)
	}
	for i := range s.Containers {
		validateContainer(e, idx(path+".containers", i), &s.Containers[i], names, volumes, false)
	}
	switch s.RestartPolicy {
	case "Always", "OnFailure", "Never":
	case "":
		e.required(path+".restartPolicy", "a restart policy")
	default:
		e.notSupported(path+".restartPolicy", s.RestartPolicy, "Always", "OnFailure", "Never")
	}
	switch s.DNSPolicy {
	case "", "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None":
	default:
		e.notSupported(path+".dnsPolicy", s.DNSPolicy, "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
	}
	if s.TerminationGracePeriodSeconds != nil {
		validateNonNegative(e, path+".terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds)
	}
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		e.add(path+".activeDeadlineSeconds", fmt.Sprint(*s.ActiveDeadlineSeconds), "Invalid value: must be greater than 0")
	}
	if s.NodeName != "" {
		if why := dnsSubdomain(s.NodeName); why != "" {
			e.add(path+".nodeName", s.NodeName, "Invalid value: "+why)
		}
	}
	if s.ServiceAccountName != "" {
		if why := dnsSubdomain(s.ServiceAccountName); why != "" {
			e.add(path+".serviceAccountName", s.ServiceAccountName, "Invalid value: "+why)
		}
	}
	validateLabels(e, path+".nodeSelector", s.NodeSelector)
	for i, t := range s.Tolerations {
		validateToleration(e, idx(path+".tolerations", i), t)
	}
}

func validateToleration(e *errs, p string, t api.Toleration) {
	if t.Key != "" {
		if why := qualifiedName(t.Key); why != "" {
			e.add(p+".key", t.Key, "Invalid value: "+why)
		}
	}
	switch t.Operator {
	case "Exists":
		if t.Value != "" {
			e.add(p+".value", t.Value, "Invalid value: value must be empty when `operator` is 'Exists'")
		}
	case "Equal", "":
		if t.Key == "" {
			e.add(p+".operator", t.Operator, "Invalid value: operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
		}
		if why := labelValue(t.Value); why != "" {
			e.add(p+".value", t.Value, "Invalid value: "+why)
		}
	default:
		e.notSupported(p+".operator", t.Operator, "Equal", "Exists")
	}
	switch t.Effect {
	case "", api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute:
	default:
		e.notSupported(p+".effect", t.Effect, api.TaintEffectNoExecute, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule)
	}
	if t.TolerationSeconds != nil && t.Effect != api.TaintEffectNoExecute {
		e.add(p+".effect", t.Effect, "Invalid value: effect must be 'NoExecute' when `tolerationSeconds` is set")
	}
}

func validateContainer(e *errs, p string, c *api.Container, names, volumes map[string]bool, init bool) {
	if c.Name == "" {
		e.required(p+".name", "a container name")
	} else if why := dnsLabel(c.Name); why != "" {
		e.add(p+".name", c.Name, "Invalid value: "+why)
	} else if names[c.Name] {
		e.add(p+".name", c.Name, "Duplicate value")
	}
	names[c.Name] = true
	if c.Image == "" {
		e.required(p+".image", "a container image")
	}
	switch c.ImagePullPolicy {
	case "Always", "IfNotPresent", "Never":
	case "":
		e.required(p+".imagePullPolicy", "an image pull policy")
	default:
		e.notSupported(p+".imagePullPolicy", c.ImagePullPolicy, "Always", "IfNotPresent", "Never")
	}
	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := idx(p+".ports", i)
		validatePort(e, pp+".containerPort", port.ContainerPort, false)
		validatePort(e, pp+".hostPort", port.HostPort, true)
		validateProtocol(e, pp+".protocol", port.Protocol)
		if port.Name != "" {
			if why := portName(port.Name); why != "" {
				e.add(pp+".name", port.Name, "Invalid value: "+why)
			} else if portNames[port.Name] {
				e.add(pp+".name", port.Name, "Duplicate value")
			}
			portNames[port.Name] = true
		}
		if port.HostIP != "" {
			validateIP(e, pp+".hostIP", port.HostIP)
		}
	}
	for i, env := range c.Env {
		ep := idx(p+".env", i)
		if env.Name == "" {
			e.required(ep+".name", "an environment variable name")
		} else if !envNameRe.MatchString(env.Name) {
			e.add(ep+".name", env.Name, "Invalid value: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit")
		}
		if env.ValueFrom != nil {
			if env.Value != "" {
				e.add(ep+".valueFrom", "", "Invalid value: may not be specified when `value` is not empty")
			}
			if env.ValueFrom.FieldRef == nil || env.ValueFrom.FieldRef.FieldPath == "" {
				e.required(ep+".valueFrom.fieldRef.fieldPath", "a field path")
			}
		}
	}
	validateResourceList(e, p+".resources.limits", c.Resources.Limits)
	validateResourceList(e, p+".resources.requests", c.Resources.Requests)
	for _, name := range sortedNames(c.Resources.Requests) {
		req := c.Resources.Requests[name]
		if lim, ok := c.Resources.Limits[name]; ok && req.Cmp(lim) > 0 {
			e.add(p+".resources.requests["+string(name)+"]", req.String(), "Invalid value: must be less than or equal to "+string(name)+" limit of "+lim.String())
		}
	}
	for i, m := range c.VolumeMounts {
		mp := idx(p+".volumeMounts", i)
		if m.Name == "" {
			e.required(mp+".name", "a volume name")
		} else if !volumes[m.Name] {
			e.add(mp+".name", m.Name, "Not found: no volume with this name in the pod")
		}
		if m.MountPath == "" {
			e.required(mp+".mountPath", "a mount path")
		}
	}
	validateProbe(e, p+".livenessProbe", c.LivenessProbe, true)
	validateProbe(e, p+".readinessProbe", c.ReadinessProbe, false)
	if init && (c.LivenessProbe != nil || c.ReadinessProbe != nil) {
		e.add(p, "", "Forbidden: init containers may not have probes")
	}
}

func validateProbe(e *errs, p string, pr *api.Probe, liveness bool) {
	if pr == nil {
		return
	}
	n := 0
	if pr.Exec != nil {
		n++
		if len(pr.Exec.Command) == 0 {
			e.required(p+".exec.command", "a command")
		}
	}
	if pr.HTTPGet != nil {
		n++
		validateIntOrStringPort(e, p+".httpGet.port", pr.HTTPGet.Port)
		switch pr.HTTPGet.Scheme {
		case "", "HTTP", "HTTPS":
		default:
			e.notSupported(p+".httpGet.scheme", pr.HTTPGet.Scheme, "HTTP", "HTTPS")
		}
	}
	if pr.TCPSocket != nil {
		n++
		validateIntOrStringPort(e, p+".tcpSocket.port", pr.TCPSocket.Port)
	}
	if n != 1 {
		e.add(p, "", fmt.Sprintf("Invalid value: must specify exactly one handler (exec, httpGet or tcpSocket), found %d", n))
	}
	validateNonNegative(e, p+".initialDelaySeconds", int64(pr.InitialDelaySeconds))
	validateNonNegative(e, p+".timeoutSeconds", int64(pr.TimeoutSeconds))
	validateNonNegative(e, p+".periodSeconds", int64(pr.PeriodSeconds))
	validateNonNegative(e, p+".successThreshold", int64(pr.SuccessThreshold))
	validateNonNegative(e, p+".failureThreshold", int64(pr.FailureThreshold))
	if liveness && pr.SuccessThreshold > 1 {
		e.add(p+".successThreshold", fmt.Sprint(pr.SuccessThreshold), "Invalid value: must be 1")
	}
}

// validatePodUpdate: a pod's spec is immutable except container images,
// activeDeadlineSeconds and added tolerations.
func validatePodUpdate(old, new *api.Pod) store.FieldErrors {
	var e errs
	a := *old.Spec.DeepCopy()
	b := new.Spec
	if len(a.Containers) == len(b.Containers) {
		for i := range a.Containers {
			a.Containers[i].Image = b.Containers[i].Image
		}
	}
	if len(a.InitContainers) == len(b.InitContainers) {
		for i := range a.InitContainers {
			a.InitContainers[i].Image = b.InitContainers[i].Image
		}
	}
	a.ActiveDeadlineSeconds = b.ActiveDeadlineSeconds
	// tolerations may only be added
	kept := 0
	for _, t := range old.Spec.Tolerations {
		for _, u := range b.Tolerations {
			if reflect.DeepEqual(t, u) {
				kept++
				break
			}
		}
	}
	if kept == len(old.Spec.Tolerations) {
		a.Tolerations = b.Tolerations
	}
	if !reflect.DeepEqual(a, b) {
		e.add("spec", "", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)")
	}
	// A pod that has finished stays finished (Kubernetes: a terminal phase
	// is final); otherwise a finished pod, which quota no longer counts,
	// could come back to life past the quota.
	if terminal := old.Status.Phase == api.PodSucceeded || old.Status.Phase == api.PodFailed; terminal && new.Status.Phase != old.Status.Phase {
		e.add("status.phase", new.Status.Phase, fmt.Sprintf("Forbidden: cannot transition from terminal phase %s to %s", old.Status.Phase, new.Status.Phase))
	}
	return e.list
}

func validateService(s *api.Service) store.FieldErrors {
	var e errs
	switch s.Spec.Type {
	case api.ServiceTypeClusterIP, api.ServiceTypeNodePort:
	case "":
		e.required("spec.type", "a service type")
	default:
		e.notSupported("spec.type", s.Spec.Type, api.ServiceTypeClusterIP, api.ServiceTypeNodePort)
	}
	headless := s.Spec.ClusterIP == "None"
	if s.Spec.ClusterIP != "" && !headless {
		validateIP(&e, "spec.clusterIP", s.Spec.ClusterIP)
	}
	if headless && s.Spec.Type == api.ServiceTypeNodePort {
		e.add("spec.clusterIP", "None", "Invalid value: may not be set to 'None' for NodePort services")
	}
	if len(s.Spec.Ports) == 0 && !headless {
		e.required("spec.ports", "at least one port")
	}
	names := map[string]bool{}
	ports := map[string]bool{}
	for i, p := range s.Spec.Ports {
		pp := idx("spec.ports", i)
		if len(s.Spec.Ports) > 1 && p.Name == "" {
			e.required(pp+".name", "a port name when there is more than one port")
		}
		if p.Name != "" {
			if why := portName(p.Name); why != "" {
				e.add(pp+".name", p.Name, "Invalid value: "+why)
			} else if names[p.Name] {
				e.add(pp+".name", p.Name, "Duplicate value")
			}
			names[p.Name] = true
		}
		validatePort(&e, pp+".port", p.Port, false)
		validateProtocol(&e, pp+".protocol", p.Protocol)
		if k := fmt.Sprintf("%d/%s", p.Port, p.Protocol); ports[k] {
			e.add(pp, k, "Duplicate value: port and protocol must be unique")
		} else {
			ports[k] = true
		}
		if p.TargetPort != (api.IntOrString{}) {
			validateIntOrStringPort(&e, pp+".targetPort", p.TargetPort)
		}
		if p.NodePort != 0 {
			if s.Spec.Type != api.ServiceTypeNodePort {
				e.add(pp+".nodePort", fmt.Sprint(p.NodePort), "Forbidden: may not be used when `type` is 'ClusterIP'")
			} else if p.NodePort < 30000 || p.NodePort > 32767 {
				e.add(pp+".nodePort", fmt.Sprint(p.NodePort), "Invalid value: provided port is not in the valid range. The range of valid ports is 30000-32767")
			}
		}
	}
	for i, ip := range s.Spec.ExternalIPs {
		validateIP(&e, idx("spec.externalIPs", i), ip)
	}
	switch s.Spec.SessionAffinity {
	case "", "None", "ClientIP":
	default:
		e.notSupported("spec.sessionAffinity", s.Spec.SessionAffinity, "ClientIP", "None")
	}
	validateLabels(&e, "spec.selector", s.Spec.Selector)
	return e.list
}

func validateServiceUpdate(old, new *api.Service) store.FieldErrors {
	var e errs
	if old.Spec.ClusterIP != "" && new.Spec.ClusterIP != "" && old.Spec.ClusterIP != new.Spec.ClusterIP {
		e.add("spec.clusterIP", new.Spec.ClusterIP, "Invalid value: field is immutable")
	}
	return e.list
}

func validateEndpoints(ep *api.Endpoints) store.FieldErrors {
	var e errs
	for i, s := range ep.Subsets {
		sp := idx("subsets", i)
		if len(s.Addresses) == 0 && len(s.NotReadyAddresses) == 0 {
			e.required(sp, "must specify `addresses` or `notReadyAddresses`")
		}
		for j, a := range s.Addresses {
			validateIP(&e, idx(sp+".addresses", j)+".ip", a.IP)
		}
		for j, a := range s.NotReadyAddresses {
			validateIP(&e, idx(sp+".notReadyAddresses", j)+".ip", a.IP)
		}
		if len(s.Ports) == 0 {
			e.required(sp+".ports", "at least one port")
		}
		for j, p := range s.Ports {
			pp := idx(sp+".ports", j)
			if len(s.Ports) > 1 && p.Name == "" {
				e.required(pp+".name", "a port name when there is more than one port")
			}
			if p.Name != "" {
				if why := portName(p.Name); why != "" {
					e.add(pp+".name", p.Name, "Invalid value: "+why)
				}
			}
			validatePort(&e, pp+".port", p.Port, false)
			validateProtocol(&e, pp+".protocol", p.Protocol)
		}
	}
	return e.list
}

func validateEvent(ev *api.Event) store.FieldErrors {
	var e errs
	if ev.InvolvedObject.Name == "" && ev.InvolvedObject.Kind != "Namespace" {
		e.required("involvedObject.name", "the object the event is about")
	}
	if ev.InvolvedObject.Namespace != "" && ev.InvolvedObject.Namespace != ev.Namespace {
		e.add("involvedObject.namespace", ev.InvolvedObject.Namespace, "Invalid value: does not match event.namespace")
	}
	switch ev.Type {
	case "", "Normal", "Warning":
	default:
		e.notSupported("type", ev.Type, "Normal", "Warning")
	}
	if len(ev.Reason) > 128 {
		e.add("reason", "", "Too long: may not be more than 128 bytes")
	}
	validateNonNegative(&e, "count", int64(ev.Count))
	return e.list
}

func validateLease(l *election.Lease) store.FieldErrors {
	var e errs
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		e.add("spec.leaseDurationSeconds", fmt.Sprint(*d), "Invalid value: must be greater than 0")
	}
	if t := l.Spec.LeaseTransitions; t != nil {
		validateNonNegative(&e, "spec.leaseTransitions", int64(*t))
	}
	return e.list
}

// QuotaResources are the resource names a ResourceQuota may limit.
var QuotaResources = []string{"cpu", "memory", "pods", "services", "limits.cpu", "limits.memory",
	"requests.cpu", "requests.memory", "configmaps", "secrets", "replicationcontrollers", "resourcequotas"}

func validateResourceQuota(q *api.ResourceQuota) store.FieldErrors {
	var e errs
	for _, path := range []string{"spec.hard", "status.hard", "status.used"} {
		rl := q.Spec.Hard
		switch path {
		case "status.hard":
			rl = q.Status.Hard
		case "status.used":
			rl = q.Status.Used
		}
		validateResourceList(&e, path, rl)
		for _, rn := range sortedNames(rl) {
			v, name := rl[rn], string(rn)
			if !slices.Contains(QuotaResources, name) && !hasPrefix(name, "count/") {
				e.notSupported(path+"["+name+"]", name, anys(QuotaResources)...)
				continue
			}
			if name == "pods" || name == "services" || hasPrefix(name, "count/") {
				if v.MilliValue()%1000 != 0 {
					e.add(path+"["+name+"]", v.String(), "Invalid value: must be an integer")
				}
			}
		}
	}
	return e.list
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// ValidateBinding checks a pods/binding request body.
func ValidateBinding(b *api.Binding) error {
	var e errs
	if b.Target.Name == "" {
		e.required("target.name", "the node to bind to")
	} else if why := dnsSubdomain(b.Target.Name); why != "" {
		e.add("target.name", b.Target.Name, "Invalid value: "+why)
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		e.notSupported("target.kind", b.Target.Kind, "Node")
	}
	return e.list.ErrOrNil()
}

// ValidateScale checks a scale subresource update.
func ValidateScale(s *autoscaling.Scale) error {
	var e errs
	validateNonNegative(&e, "spec.replicas", int64(s.Spec.Replicas))
	return e.list.ErrOrNil()
}
