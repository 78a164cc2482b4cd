package registry

import (
	"fmt"
	"reflect"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// Validation of containers and the scheduling parts of a pod spec
// (security contexts, affinity, topology spread, tolerations), and of pod
// updates.

func validateContainer(e *errs, p string, c *api.Container, names, volumes map[string]bool) {
	if c.Name == "" {
		e.required(p + ".name")
	} else if why := dnsLabel(c.Name); why != "" {
		e.invalid(p+".name", c.Name, why)
	} else if names[c.Name] {
		e.duplicate(p+".name", c.Name)
	}
	names[c.Name] = true
	if c.Image == "" {
		e.required(p + ".image")
	}
	oneOf(e, p+".imagePullPolicy", c.ImagePullPolicy, api.PullAlways, api.PullIfNotPresent, api.PullNever)
	oneOf(e, p+".terminationMessagePolicy", c.TerminationMessagePolicy, api.TerminationMessageReadFile, api.TerminationMessageFallbackToLogsOnError)
	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := idx(p+".ports", i)
		validatePort(e, pp+".containerPort", port.ContainerPort, false)
		validatePort(e, pp+".hostPort", port.HostPort, true)
		validateProtocol(e, pp+".protocol", port.Protocol)
		if port.Name != "" {
			if why := portName(port.Name); why != "" {
				e.invalid(pp+".name", port.Name, why)
			} else if portNames[port.Name] {
				e.duplicate(pp+".name", port.Name)
			}
			portNames[port.Name] = true
		}
		if port.HostIP != "" {
			validateIP(e, pp+".hostIP", port.HostIP)
		}
	}
	for i, env := range c.Env {
		validateEnvVar(e, idx(p+".env", i), env)
	}
	for i, from := range c.EnvFrom {
		fp := idx(p+".envFrom", i)
		if from.Prefix != "" {
			if why := envVarName(from.Prefix); why != "" {
				e.invalid(fp+".prefix", from.Prefix, why)
			}
		}
		switch {
		case from.ConfigMapRef != nil && from.SecretRef != nil:
			e.invalid(fp, "", "may not have more than one field specified at a time")
		case from.ConfigMapRef != nil:
			if from.ConfigMapRef.Name == "" {
				e.required(fp + ".configMapRef.name")
			}
		case from.SecretRef != nil:
			if from.SecretRef.Name == "" {
				e.required(fp + ".secretRef.name")
			}
		default:
			e.invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`")
		}
	}
	validateResources(e, p+".resources", &c.Resources)
	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := idx(p+".volumeMounts", i)
		if m.Name == "" {
			e.required(mp + ".name")
		} else if !volumes[m.Name] {
			e.notFound(mp+".name", m.Name)
		}
		if m.MountPath == "" {
			e.required(mp + ".mountPath")
		} else if mountPaths[m.MountPath] {
			e.invalid(mp+".mountPath", m.MountPath, "must be unique")
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			validateRelativePath(e, mp+".subPath", m.SubPath)
		}
		if m.SubPath != "" && m.SubPathExpr != "" {
			e.invalid(mp+".subPathExpr", m.SubPathExpr, "subPathExpr and subPath are mutually exclusive")
		}
		optionalOneOf(e, mp+".mountPropagation", m.MountPropagation, api.MountPropagationNone, api.MountPropagationHostToContainer, api.MountPropagationBidirectional)
		optionalOneOf(e, mp+".recursiveReadOnly", m.RecursiveReadOnly, api.RecursiveReadOnlyDisabled, api.RecursiveReadOnlyIfPossible, api.RecursiveReadOnlyEnabled)
	}
	for i, d := range c.VolumeDevices {
		if !volumes[d.Name] {
			e.notFound(idx(p+".volumeDevices", i)+".name", d.Name)
		}
	}
	validateProbe(e, p+".livenessProbe", c.LivenessProbe, true)
	validateProbe(e, p+".readinessProbe", c.ReadinessProbe, false)
	validateProbe(e, p+".startupProbe", c.StartupProbe, true)
	if l := c.Lifecycle; l != nil {
		for _, h := range []struct {
			name string
			h    *api.LifecycleHandler
		}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
			if h.h != nil {
				validateHandler(e, p+".lifecycle."+h.name, h.h)
			}
		}
	}
	validateSecurityContext(e, p+".securityContext", c.SecurityContext)
}

func validateEnvVar(e *errs, p string, env api.EnvVar) {
	if env.Name == "" {
		e.required(p + ".name")
	} else if why := envVarName(env.Name); why != "" {
		e.invalid(p+".name", env.Name, why)
	}
	vf := env.ValueFrom
	if vf == nil {
		return
	}
	if env.Value != "" {
		e.invalid(p+".valueFrom", "", "may not be specified when `value` is not empty")
	}
	switch n := setPointers(vf); {
	case n == 0:
		e.invalid(p+".valueFrom", "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`")
	case n > 1:
		e.invalid(p+".valueFrom", "", "may not have more than one field specified at a time")
	}
	if f := vf.FieldRef; f != nil {
		validateFieldPath(e, p+".valueFrom.fieldRef.fieldPath", f.FieldPath, false)
	}
	if r := vf.ResourceFieldRef; r != nil {
		validateResourceFieldRef(e, p+".valueFrom.resourceFieldRef", r)
	}
	for _, ref := range []struct {
		name, obj, key string
		set            bool
	}{
		{"configMapKeyRef", nameOfCM(vf.ConfigMapKeyRef), keyOfCM(vf.ConfigMapKeyRef), vf.ConfigMapKeyRef != nil},
		{"secretKeyRef", nameOfSecret(vf.SecretKeyRef), keyOfSecret(vf.SecretKeyRef), vf.SecretKeyRef != nil},
	} {
		if !ref.set {
			continue
		}
		rp := p + ".valueFrom." + ref.name
		if ref.obj == "" {
			e.required(rp + ".name")
		}
		if ref.key == "" {
			e.required(rp + ".key")
		} else if why := configMapKey(ref.key); why != "" {
			e.invalid(rp+".key", ref.key, why)
		}
	}
	if f := vf.FileKeyRef; f != nil {
		if f.VolumeName == "" {
			e.required(p + ".valueFrom.fileKeyRef.volumeName")
		}
		validateRelativePath(e, p+".valueFrom.fileKeyRef.path", f.Path)
		if f.Key == "" {
			e.required(p + ".valueFrom.fileKeyRef.key")
		}
	}
}

func nameOfCM(r *api.ConfigMapKeySelector) string {
	if r == nil {
		return ""
	}
	return r.Name
}

func keyOfCM(r *api.ConfigMapKeySelector) string {
	if r == nil {
		return ""
	}
	return r.Key
}

func nameOfSecret(r *api.SecretKeySelector) string {
	if r == nil {
		return ""
	}
	return r.Name
}

func keyOfSecret(r *api.SecretKeySelector) string {
	if r == nil {
		return ""
	}
	return r.Key
}

// validateResources checks requests and limits, and that no request is
// above its limit.
func validateResources(e *errs, p string, r *api.ResourceRequirements) {
	validateResourceList(e, p+".limits", r.Limits)
	validateResourceList(e, p+".requests", r.Requests)
	for _, name := range sortedNames(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			e.invalid(key(p+".requests", string(name)), req.String(), "must be less than or equal to "+string(name)+" limit of "+lim.String())
		}
	}
}

// validateHandler checks a probe or lifecycle handler: exactly one action.
func validateHandler(e *errs, p string, h any) {
	switch n := setPointers(h); {
	case n == 0:
		e.required(p, "must specify a handler type")
	case n > 1:
		e.forbidden(p, "may not specify more than 1 handler type")
	}
	v := reflect.ValueOf(h).Elem()
	if x, ok := v.FieldByName("Exec").Interface().(*api.ExecAction); ok && x != nil && len(x.Command) == 0 {
		e.required(p + ".exec.command")
	}
	if x, ok := v.FieldByName("HTTPGet").Interface().(*api.HTTPGetAction); ok && x != nil {
		validateIntOrStringPort(e, p+".httpGet.port", x.Port)
		oneOf(e, p+".httpGet.scheme", x.Scheme, api.URISchemeHTTP, api.URISchemeHTTPS)
		for i, hd := range x.HTTPHeaders {
			if hd.Name == "" {
				e.required(idx(p+".httpGet.httpHeaders", i) + ".name")
			}
		}
	}
	if x, ok := v.FieldByName("TCPSocket").Interface().(*api.TCPSocketAction); ok && x != nil {
		validateIntOrStringPort(e, p+".tcpSocket.port", x.Port)
	}
	if f := v.FieldByName("GRPC"); f.IsValid() {
		if x := f.Interface().(*api.GRPCAction); x != nil {
			validatePort(e, p+".grpc.port", x.Port, false)
		}
	}
	if f := v.FieldByName("Sleep"); f.IsValid() {
		if x := f.Interface().(*api.SleepAction); x != nil && x.Seconds < 0 {
			e.invalid(p+".sleep.seconds", x.Seconds, "must be non-negative")
		}
	}
}

func validateProbe(e *errs, p string, pr *api.Probe, mustSucceedOnce bool) {
	if pr == nil {
		return
	}
	validateHandler(e, p, &pr.ProbeHandler)
	validateNonNegative(e, p+".initialDelaySeconds", int64(pr.InitialDelaySeconds))
	validateNonNegative(e, p+".timeoutSeconds", int64(pr.TimeoutSeconds))
	validateNonNegative(e, p+".periodSeconds", int64(pr.PeriodSeconds))
	validateNonNegative(e, p+".successThreshold", int64(pr.SuccessThreshold))
	validateNonNegative(e, p+".failureThreshold", int64(pr.FailureThreshold))
	if mustSucceedOnce && pr.SuccessThreshold != 1 {
		e.invalid(p+".successThreshold", pr.SuccessThreshold, "must be 1")
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		e.invalid(p+".terminationGracePeriodSeconds", *g, "must be greater than 0")
	}
}

func validateID(e *errs, p string, id *int64) {
	if id != nil && (*id < 0 || *id > 2147483647) {
		e.invalid(p, *id, "must be between 0 and 2147483647, inclusive")
	}
}

func validateSeccomp(e *errs, p string, s *api.SeccompProfile) {
	if s == nil {
		return
	}
	oneOf(e, p+".type", s.Type, api.SeccompProfileTypeLocalhost, api.SeccompProfileTypeRuntimeDefault, api.SeccompProfileTypeUnconfined)
	if s.Type == api.SeccompProfileTypeLocalhost && (s.LocalhostProfile == nil || *s.LocalhostProfile == "") {
		e.required(p+".localhostProfile", "must be set when seccomp type is Localhost")
	}
	if s.Type != api.SeccompProfileTypeLocalhost && s.LocalhostProfile != nil {
		e.invalid(p+".localhostProfile", *s.LocalhostProfile, "can only be set when seccomp type is Localhost")
	}
}

func validateSecurityContext(e *errs, p string, s *api.SecurityContext) {
	if s == nil {
		return
	}
	validateID(e, p+".runAsUser", s.RunAsUser)
	validateID(e, p+".runAsGroup", s.RunAsGroup)
	optionalOneOf(e, p+".procMount", s.ProcMount, api.DefaultProcMount, api.UnmaskedProcMount)
	validateSeccomp(e, p+".seccompProfile", s.SeccompProfile)
	if s.Privileged != nil && *s.Privileged && s.AllowPrivilegeEscalation != nil && !*s.AllowPrivilegeEscalation {
		e.invalid(p, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")
	}
	if c := s.Capabilities; c != nil && s.AllowPrivilegeEscalation != nil && !*s.AllowPrivilegeEscalation {
		for _, cap := range c.Add {
			if cap == "CAP_SYS_ADMIN" || cap == "SYS_ADMIN" {
				e.invalid(p, "", "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN")
			}
		}
	}
	if a := s.AppArmorProfile; a != nil {
		oneOf(e, p+".appArmorProfile.type", a.Type, api.AppArmorProfileTypeLocalhost, api.AppArmorProfileTypeRuntimeDefault, api.AppArmorProfileTypeUnconfined)
	}
}

func validatePodSecurityContext(e *errs, p string, s *api.PodSecurityContext) {
	if s == nil {
		return
	}
	validateID(e, p+".runAsUser", s.RunAsUser)
	validateID(e, p+".runAsGroup", s.RunAsGroup)
	validateID(e, p+".fsGroup", s.FSGroup)
	for i, g := range s.SupplementalGroups {
		validateID(e, idx(p+".supplementalGroups", i), &g)
	}
	for i, sc := range s.Sysctls {
		if sc.Name == "" {
			e.required(idx(p+".sysctls", i) + ".name")
		}
	}
	optionalOneOf(e, p+".fsGroupChangePolicy", s.FSGroupChangePolicy, api.FSGroupChangeOnRootMismatch, api.FSGroupChangeAlways)
	optionalOneOf(e, p+".supplementalGroupsPolicy", s.SupplementalGroupsPolicy, api.SupplementalGroupsPolicyMerge, api.SupplementalGroupsPolicyStrict)
	validateSeccomp(e, p+".seccompProfile", s.SeccompProfile)
}

func validateToleration(e *errs, p string, t api.Toleration) {
	if t.Key != "" {
		if why := qualifiedName(t.Key); why != "" {
			e.invalid(p+".key", t.Key, why)
		}
	}
	switch t.Operator {
	case api.TolerationOpExists:
		if t.Value != "" {
			e.invalid(p+".value", t.Value, "value must be empty when `operator` is 'Exists'")
		}
	case api.TolerationOpEqual, "":
		if t.Key == "" {
			e.invalid(p+".operator", t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
		}
		if why := labelValue(t.Value); why != "" {
			e.invalid(p+".value", t.Value, why)
		}
	default:
		e.notSupported(p+".operator", t.Operator, api.TolerationOpEqual, api.TolerationOpExists)
	}
	if t.Effect != "" {
		oneOf(e, p+".effect", t.Effect, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute)
	}
	if t.TolerationSeconds != nil && t.Effect != api.TaintEffectNoExecute {
		e.invalid(p+".effect", t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
	}
}

func validateNodeSelectorTerm(e *errs, p string, t api.NodeSelectorTerm) {
	for i, r := range t.MatchExpressions {
		rp := idx(p+".matchExpressions", i)
		if why := qualifiedName(r.Key); why != "" {
			e.invalid(rp+".key", r.Key, why)
		}
		validateNodeSelectorOp(e, rp, r)
	}
	for i, r := range t.MatchFields {
		rp := idx(p+".matchFields", i)
		if r.Key != "metadata.name" {
			e.notSupported(rp+".key", r.Key, "metadata.name")
		}
		if r.Operator != api.NodeSelectorOpIn && r.Operator != api.NodeSelectorOpNotIn {
			e.notSupported(rp+".operator", r.Operator, api.NodeSelectorOpIn, api.NodeSelectorOpNotIn)
		} else if len(r.Values) != 1 {
			e.required(rp+".values", "must be only one value when `operator` is 'In' or 'NotIn' for node field selector")
		}
	}
}

func validateNodeSelectorOp(e *errs, p string, r api.NodeSelectorRequirement) {
	switch r.Operator {
	case api.NodeSelectorOpIn, api.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			e.required(p+".values", "must be specified when `operator` is 'In' or 'NotIn'")
		}
	case api.NodeSelectorOpExists, api.NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			e.forbidden(p+".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
		}
	case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			e.required(p+".values", "must be specified single value when `operator` is 'Lt' or 'Gt'")
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			e.invalid(idx(p+".values", 0), r.Values[0], "must be an integer")
		}
	default:
		e.notSupported(p+".operator", r.Operator, api.NodeSelectorOpDoesNotExist, api.NodeSelectorOpExists, api.NodeSelectorOpGt, api.NodeSelectorOpIn, api.NodeSelectorOpLt, api.NodeSelectorOpNotIn)
	}
}

func validatePodAffinityTerm(e *errs, p string, t api.PodAffinityTerm) {
	validateLabelSelector(e, p+".labelSelector", t.LabelSelector)
	validateLabelSelector(e, p+".namespaceSelector", t.NamespaceSelector)
	for i, n := range t.Namespaces {
		if why := dnsLabel(n); why != "" {
			e.invalid(idx(p+".namespaces", i), n, why)
		}
	}
	if t.TopologyKey == "" {
		e.required(p+".topologyKey", "can not be empty")
	} else if why := qualifiedName(t.TopologyKey); why != "" {
		e.invalid(p+".topologyKey", t.TopologyKey, why)
	}
}

func validateWeight(e *errs, p string, w int32) {
	if w < 1 || w > 100 {
		e.invalid(p, w, "must be in the range 1-100")
	}
}

func validateAffinity(e *errs, p string, a *api.Affinity) {
	if a == nil {
		return
	}
	if n := a.NodeAffinity; n != nil {
		if r := n.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			rp := p + ".nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
			if len(r.NodeSelectorTerms) == 0 {
				e.required(rp+".nodeSelectorTerms", "must have at least one node selector term")
			}
			for i, t := range r.NodeSelectorTerms {
				validateNodeSelectorTerm(e, idx(rp+".nodeSelectorTerms", i), t)
			}
		}
		for i, t := range n.PreferredDuringSchedulingIgnoredDuringExecution {
			tp := idx(p+".nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution", i)
			validateWeight(e, tp+".weight", t.Weight)
			validateNodeSelectorTerm(e, tp+".preference", t.Preference)
		}
	}
	for _, pa := range []struct {
		name      string
		required  []api.PodAffinityTerm
		preferred []api.WeightedPodAffinityTerm
	}{
		{"podAffinity", podAffinityRequired(a.PodAffinity), podAffinityPreferred(a.PodAffinity)},
		{"podAntiAffinity", podAntiAffinityRequired(a.PodAntiAffinity), podAntiAffinityPreferred(a.PodAntiAffinity)},
	} {
		for i, t := range pa.required {
			validatePodAffinityTerm(e, idx(p+"."+pa.name+".requiredDuringSchedulingIgnoredDuringExecution", i), t)
		}
		for i, t := range pa.preferred {
			tp := idx(p+"."+pa.name+".preferredDuringSchedulingIgnoredDuringExecution", i)
			validateWeight(e, tp+".weight", t.Weight)
			validatePodAffinityTerm(e, tp+".podAffinityTerm", t.PodAffinityTerm)
		}
	}
}

func podAffinityRequired(a *api.PodAffinity) []api.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAffinityPreferred(a *api.PodAffinity) []api.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityRequired(a *api.PodAntiAffinity) []api.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func podAntiAffinityPreferred(a *api.PodAntiAffinity) []api.WeightedPodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.PreferredDuringSchedulingIgnoredDuringExecution
}

func validateTopologySpread(e *errs, p string, cs []api.TopologySpreadConstraint) {
	seen := map[string]bool{}
	for i, c := range cs {
		cp := idx(p, i)
		if c.MaxSkew <= 0 {
			e.invalid(cp+".maxSkew", c.MaxSkew, "must be greater than zero")
		}
		if c.TopologyKey == "" {
			e.required(cp+".topologyKey", "can not be empty")
		} else if why := qualifiedName(c.TopologyKey); why != "" {
			e.invalid(cp+".topologyKey", c.TopologyKey, why)
		}
		oneOf(e, cp+".whenUnsatisfiable", c.WhenUnsatisfiable, api.DoNotSchedule, api.ScheduleAnyway)
		if k := fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable); seen[k] {
			e.duplicate(cp, k)
		} else {
			seen[k] = true
		}
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				e.invalid(cp+".minDomains", *c.MinDomains, "must be greater than 0")
			} else if c.WhenUnsatisfiable != api.DoNotSchedule {
				e.invalid(cp+".minDomains", *c.MinDomains, fmt.Sprintf("can only use minDomains if whenUnsatisfiable=%s, not %s", api.DoNotSchedule, c.WhenUnsatisfiable))
			}
		}
		optionalOneOf(e, cp+".nodeAffinityPolicy", c.NodeAffinityPolicy, api.NodeInclusionPolicyHonor, api.NodeInclusionPolicyIgnore)
		optionalOneOf(e, cp+".nodeTaintsPolicy", c.NodeTaintsPolicy, api.NodeInclusionPolicyHonor, api.NodeInclusionPolicyIgnore)
		validateLabelSelector(e, cp+".labelSelector", c.LabelSelector)
	}
}

// validatePodUpdate: a pod's spec is immutable except container images,
// activeDeadlineSeconds, added tolerations and removed scheduling gates,
// as in Kubernetes.
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
	if len(b.SchedulingGates) <= len(a.SchedulingGates) {
		a.SchedulingGates = b.SchedulingGates
	}
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
		e.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")
	}
	// A pod that has finished stays finished (Kubernetes: a terminal phase
	// is final); otherwise a finished pod, which quota no longer counts,
	// could come back to life past the quota.
	if terminal := old.Status.Phase == api.PodSucceeded || old.Status.Phase == api.PodFailed; terminal && new.Status.Phase != old.Status.Phase {
		e.forbidden("status.phase", fmt.Sprintf("cannot transition from terminal phase %s to %s", old.Status.Phase, new.Status.Phase))
	}
	return e.list
}
