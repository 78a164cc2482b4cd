package registry

import (
	"path"
	"reflect"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// Validation of pods and pod specs (also the templates of workloads, jobs
// and pod templates), following Kubernetes' rules
// (pkg/apis/core/validation): every field we model is checked even where
// no component acts on it, so a manifest Kubernetes rejects is rejected
// here with the same field path.

func validatePod(p *api.Pod) store.FieldErrors {
	var e errs
	validatePodSpec(&e, "spec", &p.Spec)
	optionalOneOf(&e, "status.phase", ptrIfSet(p.Status.Phase), api.PodPending, api.PodRunning, api.PodSucceeded, api.PodFailed, api.PodUnknown)
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

// ptrIfSet returns nil for the empty value, so optionalOneOf skips it.
func ptrIfSet[S ~string](s S) *S {
	if s == "" {
		return nil
	}
	return &s
}

func validatePodSpec(e *errs, p string, s *api.PodSpec) {
	volumes := validateVolumes(e, p+".volumes", s.Volumes)
	if len(s.Containers) == 0 {
		e.required(p + ".containers")
	}
	names := map[string]bool{}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		validateContainer(e, idx(p+".initContainers", i), c, names, volumes)
		cp := idx(p+".initContainers", i)
		if c.RestartPolicy != nil {
			oneOf(e, cp+".restartPolicy", *c.RestartPolicy, api.ContainerRestartPolicyAlways)
		} else {
			for _, pr := range []struct {
				name string
				p    *api.Probe
			}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
				if pr.p != nil {
					e.forbidden(cp+"."+pr.name, "may not be set for init containers without restartPolicy=Always")
				}
			}
		}
	}
	for i := range s.Containers {
		validateContainer(e, idx(p+".containers", i), &s.Containers[i], names, volumes)
		if rp := s.Containers[i].RestartPolicy; rp != nil {
			oneOf(e, idx(p+".containers", i)+".restartPolicy", *rp, api.ContainerRestartPolicyAlways, api.ContainerRestartPolicyNever, api.ContainerRestartPolicyOnFailure)
		}
	}
	for i := range s.EphemeralContainers {
		c := api.Container(s.EphemeralContainers[i].EphemeralContainerCommon)
		validateContainer(e, idx(p+".ephemeralContainers", i), &c, names, volumes)
	}
	oneOf(e, p+".restartPolicy", s.RestartPolicy, api.RestartPolicyAlways, api.RestartPolicyOnFailure, api.RestartPolicyNever)
	oneOf(e, p+".dnsPolicy", s.DNSPolicy, api.DNSClusterFirstWithHostNet, api.DNSClusterFirst, api.DNSDefault, api.DNSNone)
	if s.DNSPolicy == api.DNSNone && s.DNSConfig == nil {
		e.required(p+".dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")
	}
	if c := s.DNSConfig; c != nil {
		if len(c.Nameservers) > 3 {
			e.invalid(p+".dnsConfig.nameservers", strings.Join(c.Nameservers, " "), "must not have more than 3 nameservers")
		}
		for i, ns := range c.Nameservers {
			validateIP(e, idx(p+".dnsConfig.nameservers", i), ns)
		}
		for i, o := range c.Options {
			if o.Name == "" {
				e.required(idx(p+".dnsConfig.options", i) + ".name")
			}
		}
	}
	if s.TerminationGracePeriodSeconds != nil {
		validateNonNegative(e, p+".terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds)
	}
	if s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds <= 0 {
		e.invalid(p+".activeDeadlineSeconds", *s.ActiveDeadlineSeconds, "must be between 1 and 2147483647, inclusive")
	}
	for _, f := range []struct{ name, v string }{{"nodeName", s.NodeName}, {"serviceAccountName", s.ServiceAccountName}, {"priorityClassName", s.PriorityClassName}} {
		if f.v != "" {
			if why := dnsSubdomain(f.v); why != "" {
				e.invalid(p+"."+f.name, f.v, why)
			}
		}
	}
	for _, f := range []struct{ name, v string }{{"hostname", s.Hostname}, {"subdomain", s.Subdomain}} {
		if f.v != "" {
			if why := dnsLabel(f.v); why != "" {
				e.invalid(p+"."+f.name, f.v, why)
			}
		}
	}
	validateLabels(e, p+".nodeSelector", s.NodeSelector)
	for i, t := range s.Tolerations {
		validateToleration(e, idx(p+".tolerations", i), t)
	}
	for i, r := range s.ImagePullSecrets {
		if r.Name == "" {
			e.required(idx(p+".imagePullSecrets", i) + ".name")
		}
	}
	for i, h := range s.HostAliases {
		hp := idx(p+".hostAliases", i)
		validateIP(e, hp+".ip", h.IP)
		for j, n := range h.Hostnames {
			if why := dnsSubdomain(n); why != "" {
				e.invalid(idx(hp+".hostnames", j), n, why)
			}
		}
	}
	for i, g := range s.ReadinessGates {
		if why := qualifiedName(string(g.ConditionType)); why != "" {
			e.invalid(idx(p+".readinessGates", i)+".conditionType", g.ConditionType, why)
		}
	}
	if s.OS != nil {
		oneOf(e, p+".os.name", s.OS.Name, api.Linux, api.Windows)
	}
	validatePodSecurityContext(e, p+".securityContext", s.SecurityContext)
	validateAffinity(e, p+".affinity", s.Affinity)
	validateTopologySpread(e, p+".topologySpreadConstraints", s.TopologySpreadConstraints)
	validateResourceList(e, p+".overhead", s.Overhead)
	if s.Resources != nil {
		validateResources(e, p+".resources", s.Resources)
	}
	optionalOneOf(e, p+".preemptionPolicy", s.PreemptionPolicy, api.PreemptLowerPriority, api.PreemptNever)
	for i, g := range s.SchedulingGates {
		if why := qualifiedName(g.Name); why != "" {
			e.invalid(idx(p+".schedulingGates", i)+".name", g.Name, why)
		}
	}
}

// validateVolumes checks the volumes and returns their names.
func validateVolumes(e *errs, p string, vols []api.Volume) map[string]bool {
	names := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		vp := idx(p, i)
		if v.Name == "" {
			e.required(vp + ".name")
		} else if why := dnsLabel(v.Name); why != "" {
			e.invalid(vp+".name", v.Name, why)
		} else if names[v.Name] {
			e.duplicate(vp+".name", v.Name)
		}
		names[v.Name] = true
		validateVolumeSource(e, vp, &v.VolumeSource)
	}
	return names
}

// setPointers counts the non-nil pointer fields of a struct: a volume
// source, a probe handler, an env source must have exactly one.
func setPointers(v any) int {
	rv := reflect.ValueOf(v).Elem()
	n := 0
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

func validateVolumeSource(e *errs, p string, s *api.VolumeSource) {
	switch n := setPointers(s); {
	case n == 0:
		e.required(p, "must specify a volume type")
	case n > 1:
		e.forbidden(p, "may not specify more than 1 volume type")
	}
	if h := s.HostPath; h != nil {
		if h.Path == "" {
			e.required(p + ".hostPath.path")
		}
		optionalOneOf(e, p+".hostPath.type", h.Type, api.HostPathUnset, api.HostPathDirectoryOrCreate, api.HostPathDirectory,
			api.HostPathFileOrCreate, api.HostPathFile, api.HostPathSocket, api.HostPathCharDev, api.HostPathBlockDev)
	}
	if d := s.EmptyDir; d != nil && d.SizeLimit != nil && d.SizeLimit.Sign() < 0 {
		e.invalid(p+".emptyDir.sizeLimit", d.SizeLimit.String(), "must be greater than or equal to 0")
	}
	if sec := s.Secret; sec != nil {
		if sec.SecretName == "" {
			e.required(p + ".secret.secretName")
		}
		validateMode(e, p+".secret.defaultMode", sec.DefaultMode)
		validateKeyToPaths(e, p+".secret.items", sec.Items)
	}
	if cm := s.ConfigMap; cm != nil {
		if cm.Name == "" {
			e.required(p + ".configMap.name")
		}
		validateMode(e, p+".configMap.defaultMode", cm.DefaultMode)
		validateKeyToPaths(e, p+".configMap.items", cm.Items)
	}
	if c := s.PersistentVolumeClaim; c != nil && c.ClaimName == "" {
		e.required(p + ".persistentVolumeClaim.claimName")
	}
	if d := s.DownwardAPI; d != nil {
		validateMode(e, p+".downwardAPI.defaultMode", d.DefaultMode)
		for i, f := range d.Items {
			validateDownwardFile(e, idx(p+".downwardAPI.items", i), f)
		}
	}
	if pr := s.Projected; pr != nil {
		validateMode(e, p+".projected.defaultMode", pr.DefaultMode)
		for i := range pr.Sources {
			sp := idx(p+".projected.sources", i)
			src := &pr.Sources[i]
			if setPointers(src) != 1 {
				e.forbidden(sp, "may not specify more than 1 volume type per source")
			}
			if t := src.ServiceAccountToken; t != nil {
				if t.Path == "" {
					e.required(sp + ".serviceAccountToken.path")
				}
				if x := t.ExpirationSeconds; x != nil && (*x < 600 || *x > 1<<32) {
					e.invalid(sp+".serviceAccountToken.expirationSeconds", *x, "may not specify a duration less than 10 minutes")
				}
			}
			if c := src.ConfigMap; c != nil {
				validateKeyToPaths(e, sp+".configMap.items", c.Items)
			}
			if c := src.Secret; c != nil {
				validateKeyToPaths(e, sp+".secret.items", c.Items)
			}
			if d := src.DownwardAPI; d != nil {
				for j, f := range d.Items {
					validateDownwardFile(e, idx(sp+".downwardAPI.items", j), f)
				}
			}
		}
	}
	if c := s.CSI; c != nil && c.Driver == "" {
		e.required(p + ".csi.driver")
	}
	if n := s.NFS; n != nil {
		if n.Server == "" {
			e.required(p + ".nfs.server")
		}
		if n.Path == "" {
			e.required(p + ".nfs.path")
		} else if !strings.HasPrefix(n.Path, "/") {
			e.invalid(p+".nfs.path", n.Path, "must be an absolute path")
		}
	}
	if im := s.Image; im != nil {
		if im.Reference == "" {
			e.required(p + ".image.reference")
		}
		if im.PullPolicy != "" {
			oneOf(e, p+".image.pullPolicy", im.PullPolicy, api.PullAlways, api.PullIfNotPresent, api.PullNever)
		}
	}
	if eph := s.Ephemeral; eph != nil {
		if eph.VolumeClaimTemplate == nil {
			e.required(p + ".ephemeral.volumeClaimTemplate")
		} else {
			validatePVCSpec(e, p+".ephemeral.volumeClaimTemplate.spec", &eph.VolumeClaimTemplate.Spec)
		}
	}
}

func validateMode(e *errs, p string, m *int32) {
	if m != nil && (*m < 0 || *m > 0o777) {
		e.invalid(p, *m, "must be a number between 0 and 0777 (octal), both inclusive")
	}
}

func validateKeyToPaths(e *errs, p string, items []api.KeyToPath) {
	for i, it := range items {
		ip := idx(p, i)
		if it.Key == "" {
			e.required(ip + ".key")
		}
		validateRelativePath(e, ip+".path", it.Path)
		validateMode(e, ip+".mode", it.Mode)
	}
}

// validateRelativePath checks a path inside a volume: required, relative,
// without "..".
func validateRelativePath(e *errs, p, v string) {
	switch {
	case v == "":
		e.required(p)
	case path.IsAbs(v):
		e.invalid(p, v, "must be a relative path")
	case strings.Contains("/"+v+"/", "/../"):
		e.invalid(p, v, "must not contain '..'")
	}
}

func validateDownwardFile(e *errs, p string, f api.DownwardAPIVolumeFile) {
	validateRelativePath(e, p+".path", f.Path)
	validateMode(e, p+".mode", f.Mode)
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		e.invalid(p, "", "fieldRef and resourceFieldRef can not be specified simultaneously")
	case f.FieldRef != nil:
		validateFieldPath(e, p+".fieldRef.fieldPath", f.FieldRef.FieldPath, true)
	case f.ResourceFieldRef != nil:
		validateResourceFieldRef(e, p+".resourceFieldRef", f.ResourceFieldRef)
	default:
		e.required(p, "one of fieldRef and resourceFieldRef is required")
	}
}

// downwardFields are the pod fields env vars and downward API files may
// name.
var downwardFields = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}

func validateFieldPath(e *errs, p, fp string, volume bool) {
	if fp == "" {
		e.required(p)
		return
	}
	base, sub, ok := strings.Cut(fp, "[")
	if ok && (base == "metadata.labels" || base == "metadata.annotations") && strings.HasSuffix(sub, "']") && strings.HasPrefix(sub, "'") {
		if why := qualifiedName(strings.ToLower(sub[1 : len(sub)-2])); why != "" {
			e.invalid(p, fp, why)
		}
		return
	}
	allowed := downwardFields
	if volume { // files may not hold the node or pod addresses
		allowed = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}
	}
	for _, a := range allowed {
		if fp == a {
			return
		}
	}
	e.notSupported(p, fp, anys(allowed)...)
}

var containerResources = []string{"limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"}

func validateResourceFieldRef(e *errs, p string, r *api.ResourceFieldSelector) {
	if r.Resource == "" {
		e.required(p + ".resource")
	} else if !strings.HasPrefix(r.Resource, "limits.hugepages-") && !strings.HasPrefix(r.Resource, "requests.hugepages-") {
		found := false
		for _, c := range containerResources {
			found = found || c == r.Resource
		}
		if !found {
			e.notSupported(p+".resource", r.Resource, anys(containerResources)...)
		}
	}
	if r.Divisor.Sign() < 0 {
		e.invalid(p+".divisor", r.Divisor.String(), "must be greater than or equal to 0")
	}
}
