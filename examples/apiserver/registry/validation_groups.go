package registry

import (
	"encoding/pem"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/store"
)

// Validation of the batch, discovery, storage, scheduling, policy,
// events, certificates and rbac kinds, following Kubernetes' rules
// (pkg/apis/<group>/validation).

func validateJobSpec(e *errs, p string, s *batch.JobSpec, generated bool) {
	for _, f := range []struct {
		name string
		v    *int32
	}{{"parallelism", s.Parallelism}, {"completions", s.Completions}, {"backoffLimit", s.BackoffLimit}, {"ttlSecondsAfterFinished", s.TTLSecondsAfterFinished}} {
		if f.v != nil {
			validateNonNegative(e, p+"."+f.name, int64(*f.v))
		}
	}
	if d := s.ActiveDeadlineSeconds; d != nil && *d <= 0 {
		e.invalid(p+".activeDeadlineSeconds", *d, "must be greater than zero")
	}
	optionalOneOf(e, p+".completionMode", s.CompletionMode, batch.NonIndexedCompletion, batch.IndexedCompletion)
	if s.CompletionMode != nil && *s.CompletionMode == batch.IndexedCompletion && s.Completions == nil {
		e.required(p+".completions", fmt.Sprintf("when completion mode is %s", batch.IndexedCompletion))
	}
	if s.BackoffLimitPerIndex != nil && (s.CompletionMode == nil || *s.CompletionMode != batch.IndexedCompletion) {
		e.forbidden(p+".backoffLimitPerIndex", "requires indexed completion mode")
	}
	optionalOneOf(e, p+".podReplacementPolicy", s.PodReplacementPolicy, batch.TerminatingOrFailed, batch.Failed)
	validateSuccessPolicy(e, p, s)
	if s.PodFailurePolicy != nil && s.Template.Spec.RestartPolicy != api.RestartPolicyNever {
		e.invalid(p+".podFailurePolicy", "", "only allowed when `restartPolicy` is 'Never'")
	}
	if generated || s.Selector != nil {
		validateSelectorTemplate(e, s.Selector, &s.Template, true)
	} else {
		e.required(p + ".selector")
		validatePodSpec(e, p+".template.spec", &s.Template.Spec)
	}
	if rp := s.Template.Spec.RestartPolicy; rp != api.RestartPolicyOnFailure && rp != api.RestartPolicyNever {
		e.notSupported(p+".template.spec.restartPolicy", rp, api.RestartPolicyOnFailure, api.RestartPolicyNever)
	}
}

func validateJob(j *batch.Job) store.FieldErrors {
	var e errs
	if len(j.Name) > 63 {
		e.invalid("metadata.name", j.Name, "must be no more than 63 characters")
	}
	validateJobSpec(&e, "spec", &j.Spec, true)
	return e.list
}

// validateJobUpdate: a job's spec is immutable but for parallelism,
// activeDeadlineSeconds, suspend and ttlSecondsAfterFinished (and, while it
// is suspended, the template's scheduling fields, which we treat as the
// whole template).
func validateJobUpdate(old, new *batch.Job) store.FieldErrors {
	var e errs
	a, b := *old.Spec.DeepCopy(), *new.Spec.DeepCopy()
	for _, s := range []*batch.JobSpec{&a, &b} {
		s.Parallelism, s.ActiveDeadlineSeconds, s.Suspend, s.TTLSecondsAfterFinished, s.ManagedBy = nil, nil, nil, nil, nil
	}
	if old.Spec.Suspend != nil && *old.Spec.Suspend {
		a.Template, b.Template = api.PodTemplateSpec{}, api.PodTemplateSpec{}
	}
	if !reflect.DeepEqual(a.Selector, b.Selector) {
		e.immutable("spec.selector", fmt.Sprint(new.Spec.Selector))
	}
	if !reflect.DeepEqual(a.Template, b.Template) {
		e.immutable("spec.template", "")
	}
	if !reflect.DeepEqual(a.Completions, b.Completions) {
		e.immutable("spec.completions", "")
	}
	if !reflect.DeepEqual(a.SuccessPolicy, b.SuccessPolicy) {
		e.immutable("spec.successPolicy", "")
	}
	a.Selector, b.Selector, a.Template, b.Template, a.Completions, b.Completions = nil, nil, api.PodTemplateSpec{}, api.PodTemplateSpec{}, nil, nil
	a.SuccessPolicy, b.SuccessPolicy = nil, nil
	if !reflect.DeepEqual(a, b) {
		e.forbidden("spec", "updates to job spec for fields other than 'parallelism', 'activeDeadlineSeconds', 'suspend' and 'ttlSecondsAfterFinished' are forbidden")
	}
	return e.list
}

// generateJobSelector does what Kubernetes' job strategy does on create
// unless spec.manualSelector is true: a selector on the job's UID and the
// matching labels on the template.
func generateJobSelector(j *batch.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	l := j.Spec.Template.Labels
	for k, v := range map[string]string{
		batch.ControllerUIDLabel: j.UID, batch.LegacyControllerUIDLabel: j.UID,
		batch.JobNameLabel: j.Name, batch.LegacyJobNameLabel: j.Name,
	} {
		if _, ok := l[k]; !ok {
			l[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{batch.ControllerUIDLabel: j.UID}}
	}
}

func validateCronJob(c *batch.CronJob) store.FieldErrors {
	var e errs
	if len(c.Name) > 52 {
		e.invalid("metadata.name", c.Name, "must be no more than 52 characters")
	}
	s := &c.Spec
	switch {
	case s.Schedule == "":
		e.required("spec.schedule")
	case strings.Contains(s.Schedule, "TZ"):
		e.invalid("spec.schedule", s.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
	default:
		if _, err := cron.ParseStandard(s.Schedule); err != nil {
			e.invalid("spec.schedule", s.Schedule, err.Error())
		}
	}
	if tz := s.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
			e.invalid("spec.timeZone", *tz, "unknown time zone "+*tz)
		}
	}
	oneOf(&e, "spec.concurrencyPolicy", s.ConcurrencyPolicy, batch.AllowConcurrent, batch.ForbidConcurrent, batch.ReplaceConcurrent)
	if d := s.StartingDeadlineSeconds; d != nil {
		validateNonNegative(&e, "spec.startingDeadlineSeconds", *d)
	}
	for _, f := range []struct {
		name string
		v    *int32
	}{{"successfulJobsHistoryLimit", s.SuccessfulJobsHistoryLimit}, {"failedJobsHistoryLimit", s.FailedJobsHistoryLimit}} {
		if f.v != nil {
			validateNonNegative(&e, "spec."+f.name, int64(*f.v))
		}
	}
	jt := &s.JobTemplate.Spec
	validateLabels(&e, "spec.jobTemplate.spec.template.metadata.labels", jt.Template.Labels)
	validatePodSpec(&e, "spec.jobTemplate.spec.template.spec", &jt.Template.Spec)
	if rp := jt.Template.Spec.RestartPolicy; rp != api.RestartPolicyOnFailure && rp != api.RestartPolicyNever {
		e.notSupported("spec.jobTemplate.spec.template.spec.restartPolicy", rp, api.RestartPolicyOnFailure, api.RestartPolicyNever)
	}
	if jt.Selector != nil && (jt.ManualSelector == nil || !*jt.ManualSelector) {
		e.invalid("spec.jobTemplate.spec.selector", "", "`selector` will be auto-generated")
	}
	return e.list
}

func validateEndpointSlice(s *discovery.EndpointSlice) store.FieldErrors {
	var e errs
	oneOf(&e, "addressType", s.AddressType, discovery.AddressTypeIPv4, discovery.AddressTypeIPv6, discovery.AddressTypeFQDN)
	if len(s.Endpoints) > 1000 {
		e.add("endpoints", "", "Too many: must have at most 1000 items")
	}
	for i, ep := range s.Endpoints {
		p := idx("endpoints", i)
		if len(ep.Addresses) == 0 || len(ep.Addresses) > 100 {
			e.invalid(p+".addresses", len(ep.Addresses), "must contain at least 1 address but no more than 100")
		}
		for j, a := range ep.Addresses {
			switch s.AddressType {
			case discovery.AddressTypeIPv4, discovery.AddressTypeIPv6:
				validateIP(&e, idx(p+".addresses", j), a)
			case discovery.AddressTypeFQDN:
				if why := dnsSubdomain(a); why != "" {
					e.invalid(idx(p+".addresses", j), a, why)
				}
			}
		}
		if ep.Hostname != nil {
			if why := dnsLabel(*ep.Hostname); why != "" {
				e.invalid(p+".hostname", *ep.Hostname, why)
			}
		}
		if ep.NodeName != nil {
			if why := dnsSubdomain(*ep.NodeName); why != "" {
				e.invalid(p+".nodeName", *ep.NodeName, why)
			}
		}
	}
	if len(s.Ports) > 20000 {
		e.add("ports", "", "Too many: must have at most 20000 items")
	}
	names := map[string]bool{}
	for i, port := range s.Ports {
		p := idx("ports", i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			if why := dnsLabel(name); why != "" {
				e.invalid(p+".name", name, why)
			}
		}
		if names[name] {
			e.duplicate(p+".name", name)
		}
		names[name] = true
		if port.Protocol == nil {
			e.required(p + ".protocol")
		} else {
			validateProtocol(&e, p+".protocol", *port.Protocol)
		}
		if port.Port != nil {
			validatePort(&e, p+".port", *port.Port, false)
		}
	}
	return e.list
}

func validateStorageClass(s *storage.StorageClass) store.FieldErrors {
	var e errs
	if s.Provisioner == "" {
		e.required("provisioner")
	} else if why := qualifiedName(s.Provisioner); why != "" {
		e.invalid("provisioner", s.Provisioner, why)
	}
	optionalOneOf(&e, "reclaimPolicy", s.ReclaimPolicy, api.PersistentVolumeReclaimDelete, api.PersistentVolumeReclaimRetain)
	optionalOneOf(&e, "volumeBindingMode", s.VolumeBindingMode, storage.VolumeBindingImmediate, storage.VolumeBindingWaitForFirstConsumer)
	size := 0
	for k, v := range s.Parameters {
		if k == "" {
			e.invalid("parameters", k, "key may not be empty")
		}
		size += len(k) + len(v)
	}
	if size > 256<<10 {
		e.add("parameters", "", "Too long: may not be more than 262144 bytes")
	}
	return e.list
}

func validateStorageClassUpdate(old, new *storage.StorageClass) store.FieldErrors {
	var e errs
	if !reflect.DeepEqual(old.Parameters, new.Parameters) {
		e.forbidden("parameters", "updates to parameters are forbidden.")
	}
	if old.Provisioner != new.Provisioner {
		e.forbidden("provisioner", "updates to provisioner are forbidden.")
	}
	if !reflect.DeepEqual(old.ReclaimPolicy, new.ReclaimPolicy) {
		e.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")
	}
	if !reflect.DeepEqual(old.VolumeBindingMode, new.VolumeBindingMode) {
		e.forbidden("volumeBindingMode", "field is immutable")
	}
	return e.list
}

// Priority values: user classes may not go above HighestUserDefinablePriority;
// the system classes are above it.
const (
	HighestUserDefinablePriority = 1000000000
	SystemCriticalPriority       = 2 * HighestUserDefinablePriority
	SystemClusterCritical        = "system-cluster-critical"
	SystemNodeCritical           = "system-node-critical"
	systemPriorityClassPrefix    = "system-"
)

// SystemPriorityClasses returns the two classes Kubernetes creates at
// startup, which pods of the cluster's own components use.
func SystemPriorityClasses() []*scheduling.PriorityClass {
	mk := func(name string, value int32, desc string) *scheduling.PriorityClass {
		pc := &scheduling.PriorityClass{}
		pc.APIVersion, pc.Kind = scheduling.PriorityClassResource.APIVersion, scheduling.PriorityClassResource.Kind
		pc.Name, pc.Value, pc.Description = name, value, desc
		defaultPriorityClass(pc)
		return pc
	}
	return []*scheduling.PriorityClass{
		mk(SystemNodeCritical, SystemCriticalPriority+1000, "Used for system critical pods that must not be moved from their current node."),
		mk(SystemClusterCritical, SystemCriticalPriority, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
	}
}

func validatePriorityClass(pc *scheduling.PriorityClass) store.FieldErrors {
	var e errs
	if strings.HasPrefix(pc.Name, systemPriorityClassPrefix) {
		known := false
		for _, s := range SystemPriorityClasses() {
			if s.Name == pc.Name {
				known = true
				if s.Value != pc.Value {
					e.forbidden("value", fmt.Sprintf("value of %v PriorityClass must be %v", pc.Name, s.Value))
				}
			}
		}
		if !known {
			e.forbidden("metadata.name", "priority class names with '"+systemPriorityClassPrefix+"' prefix are reserved for system use only. error: priority class "+pc.Name+" is not known")
		}
	} else if pc.Value > HighestUserDefinablePriority {
		e.forbidden("value", fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority))
	}
	optionalOneOf(&e, "preemptionPolicy", pc.PreemptionPolicy, api.PreemptLowerPriority, api.PreemptNever)
	return e.list
}

func validatePriorityClassUpdate(old, new *scheduling.PriorityClass) store.FieldErrors {
	var e errs
	if old.Value != new.Value {
		e.forbidden("value", "may not be changed in an update.")
	}
	if !reflect.DeepEqual(old.PreemptionPolicy, new.PreemptionPolicy) {
		e.immutable("preemptionPolicy", fmt.Sprint(new.PreemptionPolicy))
	}
	return e.list
}

func validatePodDisruptionBudget(pdb *policy.PodDisruptionBudget) store.FieldErrors {
	var e errs
	s := &pdb.Spec
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		e.invalid("spec", "", "minAvailable and maxUnavailable cannot be both set")
	}
	validateIntOrPercent(&e, "spec.minAvailable", s.MinAvailable, true)
	validateIntOrPercent(&e, "spec.maxUnavailable", s.MaxUnavailable, true)
	validateLabelSelector(&e, "spec.selector", s.Selector)
	optionalOneOf(&e, "spec.unhealthyPodEvictionPolicy", s.UnhealthyPodEvictionPolicy, policy.IfHealthyBudget, policy.AlwaysAllow)
	validateNonNegative(&e, "status.disruptionsAllowed", int64(pdb.Status.DisruptionsAllowed))
	validateNonNegative(&e, "status.currentHealthy", int64(pdb.Status.CurrentHealthy))
	validateNonNegative(&e, "status.desiredHealthy", int64(pdb.Status.DesiredHealthy))
	validateNonNegative(&e, "status.expectedPods", int64(pdb.Status.ExpectedPods))
	return e.list
}

// validateEventsV1: events.k8s.io/v1 events, which Kubernetes validates
// more strictly than core ones: eventTime, reportingController,
// reportingInstance, action and reason are required, type is Normal or
// Warning.
func validateEventsV1(ev *events.Event) store.FieldErrors {
	var e errs
	if ev.EventTime.IsZero() {
		e.required("eventTime")
	}
	if ev.ReportingController == "" {
		e.required("reportingController")
	} else if why := qualifiedName(ev.ReportingController); why != "" {
		e.invalid("reportingController", ev.ReportingController, why)
	}
	if ev.ReportingInstance == "" {
		e.required("reportingInstance")
	} else if len(ev.ReportingInstance) > 128 {
		e.add("reportingInstance", "", "Too long: may not be more than 128 bytes")
	}
	if ev.Action == "" {
		e.required("action")
	} else if len(ev.Action) > 128 {
		e.add("action", "", "Too long: may not be more than 128 bytes")
	}
	if ev.Reason == "" {
		e.required("reason")
	} else if len(ev.Reason) > 128 {
		e.add("reason", "", "Too long: may not be more than 128 bytes")
	}
	if ev.Type != "Normal" && ev.Type != "Warning" {
		e.notSupported("type", ev.Type, "Normal", "Warning")
	}
	if len(ev.Note) > 1024 {
		e.add("note", "", "Too long: may not be more than 1024 bytes")
	}
	if s := ev.Series; s != nil {
		if s.Count < 2 {
			e.invalid("series.count", s.Count, "should be at least 2")
		}
		if s.LastObservedTime.IsZero() {
			e.required("series.lastObservedTime")
		}
	}
	if ev.Regarding.Namespace != "" && ev.Regarding.Namespace != ev.Namespace {
		e.invalid("regarding.namespace", ev.Regarding.Namespace, "does not match event.namespace")
	}
	return e.list
}

func validateCSR(c *certificates.CertificateSigningRequest) store.FieldErrors {
	var e errs
	s := &c.Spec
	if len(s.Request) == 0 {
		e.required("spec.request")
	} else if b, _ := pem.Decode(s.Request); b == nil || b.Type != "CERTIFICATE REQUEST" {
		e.invalid("spec.request", "<request contents redacted>", "PEM block type must be CERTIFICATE REQUEST")
	}
	if s.SignerName == "" {
		e.required("spec.signerName")
	} else if i := strings.IndexByte(s.SignerName, '/'); i <= 0 || dnsSubdomain(s.SignerName[:i]) != "" || s.SignerName[i+1:] == "" {
		e.invalid("spec.signerName", s.SignerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")
	}
	if x := s.ExpirationSeconds; x != nil && *x < 600 {
		e.invalid("spec.expirationSeconds", *x, "may not specify a duration less than 600 seconds (10 minutes)")
	}
	for i, u := range s.Usages {
		if !knownUsage(u) {
			e.notSupported(idx("spec.usages", i), u, "signing", "digital signature", "client auth", "server auth", "...")
		}
	}
	validateCSRConditions(&e, c.Status.Conditions)
	return e.list
}

func knownUsage(u certificates.KeyUsage) bool {
	switch u {
	case certificates.UsageSigning, certificates.UsageDigitalSignature, certificates.UsageContentCommitment, certificates.UsageKeyEncipherment,
		certificates.UsageKeyAgreement, certificates.UsageDataEncipherment, certificates.UsageCertSign, certificates.UsageCRLSign,
		certificates.UsageEncipherOnly, certificates.UsageDecipherOnly, certificates.UsageAny, certificates.UsageServerAuth,
		certificates.UsageClientAuth, certificates.UsageCodeSigning, certificates.UsageEmailProtection, certificates.UsageSMIME,
		certificates.UsageIPsecEndSystem, certificates.UsageIPsecTunnel, certificates.UsageIPsecUser, certificates.UsageTimestamping,
		certificates.UsageOCSPSigning, certificates.UsageMicrosoftSGC, certificates.UsageNetscapeSGC:
		return true
	}
	return false
}

// validateCSRConditions: each condition type at most once, Approved and
// Denied not together, status True, False or Unknown (approval and denial
// only True).
func validateCSRConditions(e *errs, cs []certificates.CertificateSigningRequestCondition) {
	seen := map[certificates.RequestConditionType]bool{}
	for i, c := range cs {
		p := idx("status.conditions", i)
		if c.Type == "" {
			e.required(p + ".type")
		}
		if seen[c.Type] {
			e.duplicate(p+".type", c.Type)
		}
		seen[c.Type] = true
		switch c.Type {
		case certificates.CertificateApproved, certificates.CertificateDenied:
			if c.Status != api.ConditionTrue {
				e.notSupported(p+".status", c.Status, api.ConditionTrue)
			}
		default:
			oneOf(e, p+".status", c.Status, api.ConditionTrue, api.ConditionFalse, api.ConditionUnknown)
		}
	}
	if seen[certificates.CertificateApproved] && seen[certificates.CertificateDenied] {
		e.invalid("status.conditions", "", "Approved and Denied conditions are mutually exclusive")
	}
}

// validateCSRUpdate: the spec is immutable; an approval or denial, once
// given, may not be removed or changed.
func validateCSRUpdate(old, new *certificates.CertificateSigningRequest) store.FieldErrors {
	var e errs
	if !reflect.DeepEqual(old.Spec, new.Spec) {
		e.immutable("spec", "")
	}
	has := func(c *certificates.CertificateSigningRequest, t certificates.RequestConditionType) bool {
		for _, x := range c.Status.Conditions {
			if x.Type == t {
				return true
			}
		}
		return false
	}
	for _, t := range []certificates.RequestConditionType{certificates.CertificateApproved, certificates.CertificateDenied} {
		if has(old, t) && !has(new, t) {
			e.forbidden("status.conditions", fmt.Sprintf("updates may not remove a condition of type %q", t))
		}
	}
	if len(old.Status.Certificate) > 0 && string(old.Status.Certificate) != string(new.Status.Certificate) {
		e.forbidden("status.certificate", "updates may not modify existing certificate content")
	}
	return e.list
}

func validatePolicyRules(e *errs, p string, rules []rbac.PolicyRule) {
	for i, r := range rules {
		rp := idx(p, i)
		if len(r.Verbs) == 0 {
			e.required(rp+".verbs", "verbs must contain at least one value")
		}
		if len(r.NonResourceURLs) > 0 {
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 {
				e.invalid(rp+".nonResourceURLs", strings.Join(r.NonResourceURLs, ","), "rules cannot apply to both regular resources and non-resource URLs")
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			e.required(rp+".apiGroups", "resource rules must supply at least one api group")
		}
		if len(r.Resources) == 0 {
			e.required(rp+".resources", "resource rules must supply at least one resource")
		}
	}
}

func validateRole(r *rbac.Role) store.FieldErrors {
	var e errs
	validatePolicyRules(&e, "rules", r.Rules)
	return e.list
}

func validateClusterRole(r *rbac.ClusterRole) store.FieldErrors {
	var e errs
	validatePolicyRules(&e, "rules", r.Rules)
	if a := r.AggregationRule; a != nil {
		if len(a.ClusterRoleSelectors) == 0 {
			e.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil")
		}
		for i := range a.ClusterRoleSelectors {
			validateLabelSelector(&e, idx("aggregationRule.clusterRoleSelectors", i), &a.ClusterRoleSelectors[i])
		}
	}
	return e.list
}

func validateBinding(e *errs, subjects []rbac.Subject, ref rbac.RoleRef, namespaced bool) {
	if ref.APIGroup != rbac.GroupName {
		e.notSupported("roleRef.apiGroup", ref.APIGroup, rbac.GroupName)
	}
	if namespaced {
		if ref.Kind != "Role" && ref.Kind != "ClusterRole" {
			e.notSupported("roleRef.kind", ref.Kind, "ClusterRole", "Role")
		}
	} else if ref.Kind != "ClusterRole" {
		e.notSupported("roleRef.kind", ref.Kind, "ClusterRole")
	}
	if ref.Name == "" {
		e.required("roleRef.name")
	} else if why := pathSegment(ref.Name); why != "" {
		e.invalid("roleRef.name", ref.Name, why)
	}
	for i, s := range subjects {
		p := idx("subjects", i)
		if s.Name == "" {
			e.required(p + ".name")
		}
		switch s.Kind {
		case rbac.ServiceAccountKind:
			if s.APIGroup != "" {
				e.notSupported(p+".apiGroup", s.APIGroup, "")
			}
			if s.Name != "" {
				if why := dnsSubdomain(s.Name); why != "" {
					e.invalid(p+".name", s.Name, why)
				}
			}
			if !namespaced && s.Namespace == "" {
				e.required(p + ".namespace")
			}
		case rbac.UserKind, rbac.GroupKind:
			if s.APIGroup != rbac.GroupName {
				e.notSupported(p+".apiGroup", s.APIGroup, rbac.GroupName)
			}
		default:
			e.notSupported(p+".kind", s.Kind, rbac.ServiceAccountKind, rbac.UserKind, rbac.GroupKind)
		}
	}
}

func validateRoleBinding(b *rbac.RoleBinding) store.FieldErrors {
	var e errs
	validateBinding(&e, b.Subjects, b.RoleRef, true)
	return e.list
}

func validateClusterRoleBinding(b *rbac.ClusterRoleBinding) store.FieldErrors {
	var e errs
	validateBinding(&e, b.Subjects, b.RoleRef, false)
	return e.list
}

func validateRoleRefUnchanged(e *errs, old, new rbac.RoleRef) {
	if old != new {
		e.invalid("roleRef", fmt.Sprint(new), "cannot change roleRef")
	}
}

func validateRoleBindingUpdate(old, new *rbac.RoleBinding) store.FieldErrors {
	var e errs
	validateRoleRefUnchanged(&e, old.RoleRef, new.RoleRef)
	return e.list
}

func validateClusterRoleBindingUpdate(old, new *rbac.ClusterRoleBinding) store.FieldErrors {
	var e errs
	validateRoleRefUnchanged(&e, old.RoleRef, new.RoleRef)
	return e.list
}

func validateLease(l *election.Lease) store.FieldErrors {
	var e errs
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		e.invalid("spec.leaseDurationSeconds", *d, "must be greater than 0")
	}
	if t := l.Spec.LeaseTransitions; t != nil {
		validateNonNegative(&e, "spec.leaseTransitions", int64(*t))
	}
	return e.list
}
