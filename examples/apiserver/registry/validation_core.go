package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
)

// Validation of the core (v1) kinds other than pods, following
// Kubernetes' rules (pkg/apis/core/validation).

func validateNamespace(n *api.Namespace) store.FieldErrors {
	var e errs
	optionalOneOf(&e, "status.phase", ptrIfSet(n.Status.Phase), api.NamespaceActive, api.NamespaceTerminating)
	validateFinalizerNames(&e, "spec.finalizers", n.Spec.Finalizers)
	return e.list
}

// validateNamespaceUpdate: the phase is Terminating exactly when the
// namespace is being deleted, as Kubernetes' ValidateNamespaceStatusUpdate
// says, and spec.finalizers are finalizer names.
func validateNamespaceUpdate(old, n *api.Namespace) store.FieldErrors {
	var e errs
	switch {
	case old.DeletionTimestamp == nil && n.Status.Phase != api.NamespaceActive:
		e.invalid("status.phase", n.Status.Phase, `may only be "Active" if metadata.deletionTimestamp is empty`)
	case old.DeletionTimestamp != nil && n.Status.Phase != api.NamespaceTerminating:
		e.invalid("status.phase", n.Status.Phase, `may only be "Terminating" if metadata.deletionTimestamp is not empty`)
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
			e.invalid(idx(path, i), f, why)
		}
	}
}

func validateNode(n *api.Node) store.FieldErrors {
	var e errs
	if n.Spec.PodCIDR != "" {
		validateCIDR(&e, "spec.podCIDR", n.Spec.PodCIDR)
	}
	for i, c := range n.Spec.PodCIDRs {
		validateCIDR(&e, idx("spec.podCIDRs", i), c)
	}
	if len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDR != n.Spec.PodCIDRs[0] {
		e.invalid("spec.podCIDRs", strings.Join(n.Spec.PodCIDRs, ","), "first value must match `spec.podCIDR`")
	}
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		p := idx("spec.taints", i)
		validateTaintKeyEffect(&e, p, t.Key, t.Effect, false)
		if why := labelValue(t.Value); why != "" {
			e.invalid(p+".value", t.Value, why)
		}
		if k := t.Key + ":" + string(t.Effect); seen[k] {
			e.duplicate(p, k)
		} else {
			seen[k] = true
		}
	}
	validateResourceList(&e, "status.capacity", n.Status.Capacity)
	validateResourceList(&e, "status.allocatable", n.Status.Allocatable)
	for i, a := range n.Status.Addresses {
		if a.Address == "" {
			e.required(idx("status.addresses", i) + ".address")
		}
	}
	return e.list
}

func validateTaintKeyEffect(e *errs, p, key string, effect api.TaintEffect, allowEmptyEffect bool) {
	if key == "" {
		e.required(p + ".key")
	} else if why := qualifiedName(key); why != "" {
		e.invalid(p+".key", key, why)
	}
	if effect == "" && allowEmptyEffect {
		return
	}
	oneOf(e, p+".effect", effect, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute)
}

func validateService(s *api.Service) store.FieldErrors {
	var e errs
	sp := &s.Spec
	oneOf(&e, "spec.type", sp.Type, api.ServiceTypeClusterIP, api.ServiceTypeNodePort, api.ServiceTypeLoadBalancer, api.ServiceTypeExternalName)
	headless := sp.ClusterIP == api.ClusterIPNone
	for i, ip := range sp.ClusterIPs {
		if ip != api.ClusterIPNone {
			validateIP(&e, idx("spec.clusterIPs", i), ip)
		}
	}
	if sp.ClusterIP != "" && !headless {
		validateIP(&e, "spec.clusterIP", sp.ClusterIP)
	}
	if len(sp.ClusterIPs) > 0 && sp.ClusterIP != sp.ClusterIPs[0] {
		e.invalid("spec.clusterIPs", strings.Join(sp.ClusterIPs, ","), "first value must match `spec.clusterIP`")
	}
	if headless && (sp.Type == api.ServiceTypeNodePort || sp.Type == api.ServiceTypeLoadBalancer) {
		e.invalid("spec.clusterIPs[0]", api.ClusterIPNone, "may not be set to 'None' for LoadBalancer or NodePort services")
	}
	if sp.Type == api.ServiceTypeExternalName {
		if sp.ExternalName == "" {
			e.required("spec.externalName")
		} else if why := dnsSubdomain(strings.TrimSuffix(sp.ExternalName, ".")); why != "" {
			e.invalid("spec.externalName", sp.ExternalName, why)
		}
	} else if len(sp.Ports) == 0 && !headless {
		e.required("spec.ports")
	}
	names := map[string]bool{}
	ports := map[string]bool{}
	for i, p := range sp.Ports {
		pp := idx("spec.ports", i)
		if len(sp.Ports) > 1 && p.Name == "" {
			e.required(pp + ".name")
		}
		if p.Name != "" {
			if why := portName(p.Name); why != "" {
				e.invalid(pp+".name", p.Name, why)
			} else if names[p.Name] {
				e.duplicate(pp+".name", p.Name)
			}
			names[p.Name] = true
		}
		validatePort(&e, pp+".port", p.Port, false)
		validateProtocol(&e, pp+".protocol", p.Protocol)
		if k := fmt.Sprintf("%d/%s", p.Port, p.Protocol); ports[k] {
			e.duplicate(pp, k)
		} else {
			ports[k] = true
		}
		if p.TargetPort != (api.IntOrString{}) {
			validateIntOrStringPort(&e, pp+".targetPort", p.TargetPort)
		}
		if p.NodePort != 0 {
			if sp.Type != api.ServiceTypeNodePort && sp.Type != api.ServiceTypeLoadBalancer {
				e.forbidden(pp+".nodePort", fmt.Sprintf("may not be used when `type` is '%s'", sp.Type))
			} else {
				validatePort(&e, pp+".nodePort", p.NodePort, false)
			}
		}
	}
	for i, ip := range sp.ExternalIPs {
		validateIP(&e, idx("spec.externalIPs", i), ip)
	}
	oneOf(&e, "spec.sessionAffinity", sp.SessionAffinity, api.ServiceAffinityClientIP, api.ServiceAffinityNone)
	if c := sp.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > 86400 {
			e.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", t, "must be greater than 0 and less than 86400")
		}
	}
	if sp.ExternalTrafficPolicy != "" {
		oneOf(&e, "spec.externalTrafficPolicy", sp.ExternalTrafficPolicy, api.ServiceExternalTrafficPolicyCluster, api.ServiceExternalTrafficPolicyLocal)
	}
	optionalOneOf(&e, "spec.internalTrafficPolicy", sp.InternalTrafficPolicy, api.ServiceInternalTrafficPolicyCluster, api.ServiceInternalTrafficPolicyLocal)
	optionalOneOf(&e, "spec.ipFamilyPolicy", sp.IPFamilyPolicy, api.IPFamilyPolicySingleStack, api.IPFamilyPolicyPreferDualStack, api.IPFamilyPolicyRequireDualStack)
	for i, f := range sp.IPFamilies {
		oneOf(&e, idx("spec.ipFamilies", i), f, api.IPv4Protocol, api.IPv6Protocol)
	}
	for i, r := range sp.LoadBalancerSourceRanges {
		validateCIDR(&e, idx("spec.loadBalancerSourceRanges", i), strings.TrimSpace(r))
	}
	validateLabels(&e, "spec.selector", sp.Selector)
	return e.list
}

func validateServiceUpdate(old, new *api.Service) store.FieldErrors {
	var e errs
	if old.Spec.ClusterIP != "" && new.Spec.ClusterIP != "" && old.Spec.ClusterIP != new.Spec.ClusterIP && old.Spec.Type != api.ServiceTypeExternalName {
		e.immutable("spec.clusterIPs[0]", new.Spec.ClusterIP)
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
		for j, p := range s.Ports {
			pp := idx(sp+".ports", j)
			if len(s.Ports) > 1 && p.Name == "" {
				e.required(pp + ".name")
			}
			if p.Name != "" {
				if why := portName(p.Name); why != "" {
					e.invalid(pp+".name", p.Name, why)
				}
			}
			validatePort(&e, pp+".port", p.Port, false)
			validateProtocol(&e, pp+".protocol", p.Protocol)
		}
	}
	return e.list
}

// validateEvent: events of the core API, as Kubernetes' legacy event
// validation (the reporting fields are only required with eventTime).
func validateEvent(ev *api.Event) store.FieldErrors {
	var e errs
	if ev.InvolvedObject.Namespace != "" && ev.Namespace != "" && ev.InvolvedObject.Namespace != ev.Namespace {
		e.invalid("involvedObject.namespace", ev.InvolvedObject.Namespace, "does not match event.namespace")
	}
	if !ev.EventTime.IsZero() {
		if ev.ReportingController == "" {
			e.required("reportingController")
		}
		if ev.ReportingInstance == "" {
			e.required("reportingInstance")
		}
		if ev.Action == "" {
			e.required("action")
		}
	}
	if ev.Type != "" && ev.Type != "Normal" && ev.Type != "Warning" {
		e.notSupported("type", ev.Type, "Normal", "Warning")
	}
	if len(ev.Reason) > 128 {
		e.add("reason", "", "Too long: may not be more than 128 bytes")
	}
	if len(ev.Action) > 128 {
		e.add("action", "", "Too long: may not be more than 128 bytes")
	}
	if len(ev.Message) > 4*1024 {
		e.add("message", "", "Too long: may not be more than 4096 bytes")
	}
	validateNonNegative(&e, "count", int64(ev.Count))
	return e.list
}

// QuotaResources are the resource names a ResourceQuota may limit besides
// count/<resource>[.<group>], requests.<extended resource> and the
// storage-class-scoped names.
var QuotaResources = []string{"cpu", "memory", "pods", "services", "limits.cpu", "limits.memory",
	"requests.cpu", "requests.memory", "requests.storage", "persistentvolumeclaims", "configmaps", "secrets",
	"replicationcontrollers", "resourcequotas", "services.loadbalancers", "services.nodeports",
	"ephemeral-storage", "requests.ephemeral-storage", "limits.ephemeral-storage"}

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
			if !slices.Contains(QuotaResources, name) && !strings.HasPrefix(name, "count/") && !strings.Contains(name, "/") {
				e.notSupported(key(path, name), name, anys(QuotaResources)...)
				continue
			}
			if name == "pods" || name == "services" || strings.HasPrefix(name, "count/") {
				if v.MilliValue()%1000 != 0 {
					e.invalid(key(path, name), v.String(), "must be an integer")
				}
			}
		}
	}
	for i, s := range q.Spec.Scopes {
		oneOf(&e, idx("spec.scopes", i), s, api.ResourceQuotaScopeTerminating, api.ResourceQuotaScopeNotTerminating,
			api.ResourceQuotaScopeBestEffort, api.ResourceQuotaScopeNotBestEffort, api.ResourceQuotaScopePriorityClass, api.ResourceQuotaScopeCrossNamespacePodAffinity, api.ResourceQuotaScopeVolumeAttributesClass)
	}
	if ss := q.Spec.ScopeSelector; ss != nil {
		for i, r := range ss.MatchExpressions {
			rp := idx("spec.scopeSelector.matchExpressions", i)
			oneOf(&e, rp+".operator", r.Operator, api.ScopeSelectorOpIn, api.ScopeSelectorOpNotIn, api.ScopeSelectorOpExists, api.ScopeSelectorOpDoesNotExist)
			if r.ScopeName == "" {
				e.required(rp + ".scopeName")
			}
		}
	}
	return e.list
}

func validateLimitRange(l *api.LimitRange) store.FieldErrors {
	var e errs
	seen := map[api.LimitType]bool{}
	for i, it := range l.Spec.Limits {
		p := idx("spec.limits", i)
		oneOf(&e, p+".type", it.Type, api.LimitTypePod, api.LimitTypeContainer, api.LimitTypePersistentVolumeClaim)
		if seen[it.Type] {
			e.duplicate(p+".type", it.Type)
		}
		seen[it.Type] = true
		for _, rl := range []struct {
			name string
			l    api.ResourceList
		}{{"max", it.Max}, {"min", it.Min}, {"default", it.Default}, {"defaultRequest", it.DefaultRequest}, {"maxLimitRequestRatio", it.MaxLimitRequestRatio}} {
			validateResourceList(&e, p+"."+rl.name, rl.l)
		}
		if it.Type == api.LimitTypePod && (len(it.Default) > 0 || len(it.DefaultRequest) > 0) {
			e.forbidden(p+".default", "may not be specified when `type` is 'Pod'")
		}
		for _, n := range sortedNames(it.Min) {
			mn := it.Min[n]
			if mx, ok := it.Max[n]; ok && mn.Cmp(mx) > 0 {
				e.invalid(key(p+".min", string(n)), mn.String(), "min value "+mn.String()+" is greater than max value "+mx.String())
			}
		}
		for _, n := range sortedNames(it.DefaultRequest) {
			dr := it.DefaultRequest[n]
			if d, ok := it.Default[n]; ok && dr.Cmp(d) > 0 {
				e.invalid(key(p+".defaultRequest", string(n)), dr.String(), "default request value "+dr.String()+" is greater than default limit value "+d.String())
			}
		}
	}
	return e.list
}

func validateConfigMap(c *api.ConfigMap) store.FieldErrors {
	var e errs
	size := 0
	for _, k := range sortedKeys(c.Data) {
		if why := configMapKey(k); why != "" {
			e.invalid(key("data", k), k, why)
		}
		if _, dup := c.BinaryData[k]; dup {
			e.invalid(key("data", k), k, "duplicate of key present in binaryData")
		}
		size += len(c.Data[k])
	}
	for _, k := range sortedKeys(c.BinaryData) {
		if why := configMapKey(k); why != "" {
			e.invalid(key("binaryData", k), k, why)
		}
		size += len(c.BinaryData[k])
	}
	if size > api.MaxSecretSize {
		e.add("", "", fmt.Sprintf("Too long: must have at most %d bytes", api.MaxSecretSize))
	}
	return e.list
}

// validateImmutableData: once immutable, data stays as it is and
// immutable stays true.
func validateImmutableData(e *errs, oldImm, newImm *bool, oldData, newData any) {
	if oldImm == nil || !*oldImm {
		return
	}
	if newImm == nil || !*newImm {
		e.forbidden("immutable", "field is immutable when `immutable` is set")
	}
	if !reflect.DeepEqual(oldData, newData) {
		e.forbidden("data", "field is immutable when `immutable` is set")
	}
}

func validateConfigMapUpdate(old, new *api.ConfigMap) store.FieldErrors {
	var e errs
	validateImmutableData(&e, old.Immutable, new.Immutable, [2]any{old.Data, old.BinaryData}, [2]any{new.Data, new.BinaryData})
	return e.list
}

var bootstrapTokenRe = map[string]*regexp.Regexp{
	api.BootstrapTokenIDKey:     regexp.MustCompile(`^[a-z0-9]{6}$`),
	api.BootstrapTokenSecretKey: regexp.MustCompile(`^[a-z0-9]{16}$`),
}

// validateSecret follows Kubernetes' rules for each secret type: their
// required keys (and a service account token's annotation), valid keys,
// at most 1 MiB of data. Bootstrap tokens (whose format Kubernetes checks
// only when one is used) are also checked here: a 6-character token-id, a
// 16-character token-secret and the name bootstrap-token-<token-id>.
func validateSecret(s *api.Secret) store.FieldErrors {
	var e errs
	size := 0
	for _, k := range sortedKeys(s.Data) {
		if why := configMapKey(k); why != "" {
			e.invalid(key("data", k), k, why)
		}
		size += len(s.Data[k])
	}
	if size > api.MaxSecretSize {
		e.add("data", "", fmt.Sprintf("Too long: may not be more than %d bytes", api.MaxSecretSize))
	}
	requireKey := func(k string) {
		if _, ok := s.Data[k]; !ok {
			e.required(key("data", k))
		}
	}
	validJSON := func(k string) {
		if b, ok := s.Data[k]; ok && !json.Valid(b) {
			e.invalid(key("data", k), "<secret contents redacted>", "invalid character in JSON")
		}
	}
	switch s.Type {
	case api.SecretTypeServiceAccountToken:
		if s.Annotations[api.ServiceAccountNameKey] == "" {
			e.required(key("metadata.annotations", api.ServiceAccountNameKey))
		}
	case api.SecretTypeOpaque, "":
	case api.SecretTypeDockercfg:
		requireKey(api.DockerConfigKey)
		validJSON(api.DockerConfigKey)
	case api.SecretTypeDockerConfigJson:
		requireKey(api.DockerConfigJSONKey)
		validJSON(api.DockerConfigJSONKey)
	case api.SecretTypeBasicAuth:
		_, u := s.Data[api.BasicAuthUsernameKey]
		_, p := s.Data[api.BasicAuthPasswordKey]
		if !u && !p {
			e.required(key("data", api.BasicAuthUsernameKey))
			e.required(key("data", api.BasicAuthPasswordKey))
		}
	case api.SecretTypeSSHAuth:
		if len(s.Data[api.SSHAuthPrivateKey]) == 0 {
			e.required(key("data", api.SSHAuthPrivateKey))
		}
	case api.SecretTypeTLS:
		requireKey(api.TLSCertKey)
		requireKey(api.TLSPrivateKeyKey)
	case api.SecretTypeBootstrapToken:
		for _, k := range []string{api.BootstrapTokenIDKey, api.BootstrapTokenSecretKey} {
			v, ok := s.Data[k]
			if !ok {
				e.required(key("data", k))
			} else if !bootstrapTokenRe[k].Match(v) {
				e.invalid(key("data", k), "<secret contents redacted>", fmt.Sprintf("must match %s", bootstrapTokenRe[k]))
			}
		}
		if id, ok := s.Data[api.BootstrapTokenIDKey]; ok && s.Name != api.BootstrapTokenSecretPrefix+string(id) {
			e.invalid("metadata.name", s.Name, "must be "+api.BootstrapTokenSecretPrefix+"<token-id>")
		}
	default:
		if why := qualifiedName(string(s.Type)); why != "" {
			e.invalid("type", s.Type, why)
		}
	}
	return e.list
}

func validateSecretUpdate(old, new *api.Secret) store.FieldErrors {
	var e errs
	if old.Type != new.Type {
		e.immutable("type", new.Type)
	}
	validateImmutableData(&e, old.Immutable, new.Immutable, old.Data, new.Data)
	return e.list
}

func validateServiceAccount(sa *api.ServiceAccount) store.FieldErrors {
	var e errs
	for i, r := range sa.ImagePullSecrets {
		if r.Name == "" {
			e.required(idx("imagePullSecrets", i) + ".name")
		}
	}
	return e.list
}

func validateReplicationController(rc *api.ReplicationController) store.FieldErrors {
	var e errs
	s := &rc.Spec
	if s.Replicas != nil {
		validateNonNegative(&e, "spec.replicas", int64(*s.Replicas))
	}
	validateNonNegative(&e, "spec.minReadySeconds", int64(s.MinReadySeconds))
	if len(s.Selector) == 0 {
		e.required("spec.selector")
	}
	validateLabels(&e, "spec.selector", s.Selector)
	if s.Template == nil {
		e.required("spec.template")
		return e.list
	}
	for k, v := range s.Selector {
		if s.Template.Labels[k] != v {
			e.invalid("spec.template.metadata.labels", fmt.Sprint(s.Template.Labels), "`selector` does not match template `labels`")
			break
		}
	}
	validateLabels(&e, "spec.template.metadata.labels", s.Template.Labels)
	validatePodSpec(&e, "spec.template.spec", &s.Template.Spec)
	if s.Template.Spec.RestartPolicy != api.RestartPolicyAlways {
		e.notSupported("spec.template.spec.restartPolicy", s.Template.Spec.RestartPolicy, api.RestartPolicyAlways)
	}
	if s.Template.Spec.ActiveDeadlineSeconds != nil {
		e.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported")
	}
	return e.list
}

func validatePodTemplate(t *api.PodTemplate) store.FieldErrors {
	var e errs
	validateLabels(&e, "template.metadata.labels", t.Template.Labels)
	validatePodSpec(&e, "template.spec", &t.Template.Spec)
	return e.list
}

var accessModes = []api.PersistentVolumeAccessMode{api.ReadWriteOnce, api.ReadOnlyMany, api.ReadWriteMany, api.ReadWriteOncePod}

func validateAccessModes(e *errs, p string, modes []api.PersistentVolumeAccessMode, required bool) {
	if len(modes) == 0 && required {
		e.required(p)
	}
	for _, m := range modes {
		if !slices.Contains(accessModes, m) {
			e.notSupported(p, m, anys(accessModes)...)
		}
	}
	if slices.Contains(modes, api.ReadWriteOncePod) && len(modes) > 1 {
		e.forbidden(p, "may not use ReadWriteOncePod with other access modes")
	}
}

func validatePersistentVolume(pv *api.PersistentVolume) store.FieldErrors {
	var e errs
	s := &pv.Spec
	validateAccessModes(&e, "spec.accessModes", s.AccessModes, true)
	if q, ok := s.Capacity[api.ResourceStorage]; !ok || len(s.Capacity) != 1 {
		e.notSupported("spec.capacity", fmt.Sprint(sortedNames(s.Capacity)), api.ResourceStorage)
	} else if q.Sign() <= 0 {
		e.invalid(key("spec.capacity", "storage"), q.String(), "must be greater than zero")
	}
	switch n := setPointers(&s.PersistentVolumeSource); {
	case n == 0:
		e.required("spec", "must specify a volume type")
	case n > 1:
		e.forbidden("spec", "may not specify more than 1 volume type")
	}
	if h := s.HostPath; h != nil && h.Path == "" {
		e.required("spec.hostPath.path")
	}
	if l := s.Local; l != nil && l.Path == "" {
		e.required("spec.local.path")
	}
	if c := s.CSI; c != nil {
		if c.Driver == "" {
			e.required("spec.csi.driver")
		}
		if c.VolumeHandle == "" {
			e.required("spec.csi.volumeHandle")
		}
	}
	oneOf(&e, "spec.persistentVolumeReclaimPolicy", s.PersistentVolumeReclaimPolicy, api.PersistentVolumeReclaimDelete, api.PersistentVolumeReclaimRecycle, api.PersistentVolumeReclaimRetain)
	optionalOneOf(&e, "spec.volumeMode", s.VolumeMode, api.PersistentVolumeBlock, api.PersistentVolumeFilesystem)
	if s.StorageClassName != "" {
		if why := dnsSubdomain(s.StorageClassName); why != "" {
			e.invalid("spec.storageClassName", s.StorageClassName, why)
		}
	}
	optionalOneOf(&e, "status.phase", ptrIfSet(pv.Status.Phase), api.VolumePending, api.VolumeAvailable, api.VolumeBound, api.VolumeReleased, api.VolumeFailed)
	return e.list
}

func validatePersistentVolumeUpdate(old, new *api.PersistentVolume) store.FieldErrors {
	var e errs
	if !reflect.DeepEqual(old.Spec.PersistentVolumeSource, new.Spec.PersistentVolumeSource) {
		e.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is forbidden.")
	}
	if !reflect.DeepEqual(old.Spec.VolumeMode, new.Spec.VolumeMode) {
		e.immutable("spec.volumeMode", new.Spec.VolumeMode)
	}
	return e.list
}

func validatePVCSpec(e *errs, p string, s *api.PersistentVolumeClaimSpec) {
	validateAccessModes(e, p+".accessModes", s.AccessModes, true)
	validateLabelSelector(e, p+".selector", s.Selector)
	if q, ok := s.Resources.Requests[api.ResourceStorage]; !ok {
		e.required(key(p+".resources", "storage"))
	} else if q.Sign() <= 0 {
		e.invalid(key(p+".resources.requests", "storage"), q.String(), "must be greater than zero")
	}
	validateResourceList(e, p+".resources.requests", s.Resources.Requests)
	validateResourceList(e, p+".resources.limits", s.Resources.Limits)
	if s.StorageClassName != nil && *s.StorageClassName != "" {
		if why := dnsSubdomain(*s.StorageClassName); why != "" {
			e.invalid(p+".storageClassName", *s.StorageClassName, why)
		}
	}
	optionalOneOf(e, p+".volumeMode", s.VolumeMode, api.PersistentVolumeBlock, api.PersistentVolumeFilesystem)
	if d := s.DataSource; d != nil {
		if d.Name == "" {
			e.required(p + ".dataSource.name")
		}
		if d.Kind == "" {
			e.required(p + ".dataSource.kind")
		}
	}
}

func validatePersistentVolumeClaim(pvc *api.PersistentVolumeClaim) store.FieldErrors {
	var e errs
	validatePVCSpec(&e, "spec", &pvc.Spec)
	optionalOneOf(&e, "status.phase", ptrIfSet(pvc.Status.Phase), api.ClaimPending, api.ClaimBound, api.ClaimLost)
	return e.list
}

// validatePersistentVolumeClaimUpdate: a claim's spec is immutable except
// its requests (which may grow, for expansion) and the volume it binds.
func validatePersistentVolumeClaimUpdate(old, new *api.PersistentVolumeClaim) store.FieldErrors {
	var e errs
	a, b := *old.Spec.DeepCopy(), *new.Spec.DeepCopy()
	a.Resources.Requests, b.Resources.Requests = nil, nil
	if a.VolumeName == "" {
		a.VolumeName = b.VolumeName
	}
	a.VolumeAttributesClassName = b.VolumeAttributesClassName
	if !reflect.DeepEqual(a, b) {
		e.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")
	}
	if o, n := old.Spec.Resources.Requests[api.ResourceStorage], new.Spec.Resources.Requests[api.ResourceStorage]; n.Cmp(o) < 0 {
		e.forbidden(key("spec.resources.requests", "storage"), "field can not be less than status.capacity")
	}
	return e.list
}

// ValidateBinding checks a pods/binding request body.
func ValidateBinding(b *api.Binding) error {
	var e errs
	if b.Target.Name == "" {
		e.required("target.name")
	} else if why := dnsSubdomain(b.Target.Name); why != "" {
		e.invalid("target.name", b.Target.Name, why)
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
