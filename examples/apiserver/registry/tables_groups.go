package registry

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/certificates"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/events"
	"github.com/setpoint-dev/setpoint/examples/api/policy"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

// The server-side tables of the kinds added with the generated types, with
// the columns of Kubernetes' printers (what "kubectl get" shows).

func createdAt[T store.Object]() table.Column[T] {
	return col("Created At", "date", 0, "The time the object was created.", func(o T, _ time.Time) any {
		return o.GetObjectMeta().CreationTimestamp.UTC().Format(time.RFC3339)
	})
}

var configMapTable = table.MustBuilder(
	table.NameColumn[*api.ConfigMap](),
	col("Data", "string", 0, "The number of keys.", func(c *api.ConfigMap, _ time.Time) any { return i64(len(c.Data) + len(c.BinaryData)) }),
	table.AgeColumn[*api.ConfigMap](),
)

var secretTable = table.MustBuilder(
	table.NameColumn[*api.Secret](),
	col("Type", "string", 0, "The type of the secret.", func(s *api.Secret, _ time.Time) any { return string(s.Type) }),
	col("Data", "string", 0, "The number of keys.", func(s *api.Secret, _ time.Time) any { return i64(len(s.Data)) }),
	table.AgeColumn[*api.Secret](),
)

var serviceAccountTable = table.MustBuilder(
	table.NameColumn[*api.ServiceAccount](),
	col("Secrets", "string", 0, "The number of secrets the account lists.", func(s *api.ServiceAccount, _ time.Time) any { return i64(len(s.Secrets)) }),
	table.AgeColumn[*api.ServiceAccount](),
)

var limitRangeTable = table.MustBuilder(table.NameColumn[*api.LimitRange](), createdAt[*api.LimitRange]())

var podTemplateTable = table.MustBuilder(
	table.NameColumn[*api.PodTemplate](),
	col("Containers", "string", 0, "Names of each container in the template.", func(t *api.PodTemplate, _ time.Time) any { return containerNames(&t.Template.Spec) }),
	col("Images", "string", 0, "Images referenced by each container in the template.", func(t *api.PodTemplate, _ time.Time) any { return containerImages(&t.Template.Spec) }),
	col("Pod Labels", "string", 0, "The labels for the pod template.", func(t *api.PodTemplate, _ time.Time) any { return labelsText(t.Template.Labels) }),
)

func rcTemplate(rc *api.ReplicationController) *api.PodSpec {
	if rc.Spec.Template == nil {
		return &api.PodSpec{}
	}
	return &rc.Spec.Template.Spec
}

var replicationControllerTable = table.MustBuilder(
	table.NameColumn[*api.ReplicationController](),
	col("Desired", "integer", 0, "Number of desired pods.", func(r *api.ReplicationController, _ time.Time) any { return i64(deref(r.Spec.Replicas)) }),
	col("Current", "integer", 0, "Number of actual pods.", func(r *api.ReplicationController, _ time.Time) any { return i64(r.Status.Replicas) }),
	col("Ready", "integer", 0, "Number of ready pods.", func(r *api.ReplicationController, _ time.Time) any { return i64(r.Status.ReadyReplicas) }),
	table.AgeColumn[*api.ReplicationController](),
	col("Containers", "string", 1, "Names of each container in the template.", func(r *api.ReplicationController, _ time.Time) any { return containerNames(rcTemplate(r)) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(r *api.ReplicationController, _ time.Time) any { return containerImages(rcTemplate(r)) }),
	col("Selector", "string", 1, "The label selector.", func(r *api.ReplicationController, _ time.Time) any { return labelsText(r.Spec.Selector) }),
)

func accessModesText(modes []api.PersistentVolumeAccessMode) string {
	short := map[api.PersistentVolumeAccessMode]string{api.ReadWriteOnce: "RWO", api.ReadOnlyMany: "ROX", api.ReadWriteMany: "RWX", api.ReadWriteOncePod: "RWOP"}
	var out []string
	for _, m := range modes {
		out = append(out, short[m])
	}
	return strings.Join(out, ",")
}

func storageText(rl api.ResourceList) string {
	if q, ok := rl[api.ResourceStorage]; ok {
		return q.String()
	}
	return ""
}

func strOr(p *string, or string) string {
	if p == nil || *p == "" {
		return or
	}
	return *p
}

var persistentVolumeTable = table.MustBuilder(
	table.NameColumn[*api.PersistentVolume](),
	col("Capacity", "string", 0, "The volume's size.", func(p *api.PersistentVolume, _ time.Time) any { return storageText(p.Spec.Capacity) }),
	col("Access Modes", "string", 0, "How the volume may be mounted.", func(p *api.PersistentVolume, _ time.Time) any { return accessModesText(p.Spec.AccessModes) }),
	col("Reclaim Policy", "string", 0, "What happens to the volume when its claim is released.", func(p *api.PersistentVolume, _ time.Time) any {
		return string(p.Spec.PersistentVolumeReclaimPolicy)
	}),
	col("Status", "string", 0, "The phase of the volume.", func(p *api.PersistentVolume, _ time.Time) any { return string(p.Status.Phase) }),
	col("Claim", "string", 0, "The claim bound to the volume.", func(p *api.PersistentVolume, _ time.Time) any {
		if c := p.Spec.ClaimRef; c != nil {
			return c.Namespace + "/" + c.Name
		}
		return ""
	}),
	col("StorageClass", "string", 0, "The storage class of the volume.", func(p *api.PersistentVolume, _ time.Time) any { return p.Spec.StorageClassName }),
	col("VolumeAttributesClass", "string", 0, "The volume attributes class.", func(p *api.PersistentVolume, _ time.Time) any {
		return strOr(p.Spec.VolumeAttributesClassName, "<unset>")
	}),
	col("Reason", "string", 0, "Why the volume is in its phase.", func(p *api.PersistentVolume, _ time.Time) any { return p.Status.Reason }),
	table.AgeColumn[*api.PersistentVolume](),
	col("VolumeMode", "string", 1, "Filesystem or Block.", func(p *api.PersistentVolume, _ time.Time) any { return string(derefMode(p.Spec.VolumeMode)) }),
)

func derefMode(m *api.PersistentVolumeMode) api.PersistentVolumeMode {
	if m == nil {
		return api.PersistentVolumeFilesystem
	}
	return *m
}

var persistentVolumeClaimTable = table.MustBuilder(
	table.NameColumn[*api.PersistentVolumeClaim](),
	col("Status", "string", 0, "The phase of the claim.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return string(p.Status.Phase) }),
	col("Volume", "string", 0, "The volume bound to the claim.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return p.Spec.VolumeName }),
	col("Capacity", "string", 0, "The bound volume's size.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return storageText(p.Status.Capacity) }),
	col("Access Modes", "string", 0, "How the volume may be mounted.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return accessModesText(p.Status.AccessModes) }),
	col("StorageClass", "string", 0, "The storage class of the claim.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return strOr(p.Spec.StorageClassName, "") }),
	col("VolumeAttributesClass", "string", 0, "The volume attributes class.", func(p *api.PersistentVolumeClaim, _ time.Time) any {
		return strOr(p.Spec.VolumeAttributesClassName, "<unset>")
	}),
	table.AgeColumn[*api.PersistentVolumeClaim](),
	col("VolumeMode", "string", 1, "Filesystem or Block.", func(p *api.PersistentVolumeClaim, _ time.Time) any { return string(derefMode(p.Spec.VolumeMode)) }),
)

var controllerRevisionTable = table.MustBuilder(
	table.NameColumn[*apps.ControllerRevision](),
	col("Controller", "string", 0, "The controller of the revision.", func(r *apps.ControllerRevision, _ time.Time) any {
		if c := r.ControllerOf(); c != nil {
			g, _, _ := strings.Cut(c.APIVersion, "/")
			if !strings.Contains(c.APIVersion, "/") {
				g = ""
			}
			kind := strings.ToLower(c.Kind)
			if g != "" {
				kind += "." + g
			}
			return kind + "/" + c.Name
		}
		return "<none>"
	}),
	col("Revision", "integer", 0, "The revision number.", func(r *apps.ControllerRevision, _ time.Time) any { return r.Revision }),
	table.AgeColumn[*apps.ControllerRevision](),
)

// jobStatus is the Status column of a job: Complete, Failed, Suspended,
// FailureTarget, SuccessCriteriaMet or Running.
func jobStatus(j *batch.Job) string {
	for _, want := range []batch.JobConditionType{batch.JobFailed, batch.JobComplete, batch.JobSuspended, batch.JobFailureTarget, batch.JobSuccessCriteriaMet} {
		for _, c := range j.Status.Conditions {
			if c.Type == want && c.Status == api.ConditionTrue {
				return string(want)
			}
		}
	}
	return "Running"
}

func jobDuration(j *batch.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return table.HumanDuration(now.Sub(j.Status.StartTime.Time))
	}
	return table.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

var jobTable = table.MustBuilder(
	table.NameColumn[*batch.Job](),
	col("Status", "string", 0, "Status of the job.", func(j *batch.Job, _ time.Time) any { return jobStatus(j) }),
	col("Completions", "string", 0, "The completion status of the job.", func(j *batch.Job, _ time.Time) any {
		if j.Spec.Completions != nil {
			return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
		}
		p := int32(0)
		if j.Spec.Parallelism != nil {
			p = *j.Spec.Parallelism
		}
		if p > 1 {
			return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, p)
		}
		return fmt.Sprintf("%d/1", j.Status.Succeeded)
	}),
	col("Duration", "string", 0, "Time required to complete the job.", func(j *batch.Job, now time.Time) any { return jobDuration(j, now) }),
	table.AgeColumn[*batch.Job](),
	col("Containers", "string", 1, "Names of each container in the template.", func(j *batch.Job, _ time.Time) any { return containerNames(&j.Spec.Template.Spec) }),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(j *batch.Job, _ time.Time) any { return containerImages(&j.Spec.Template.Spec) }),
	col("Selector", "string", 1, "The label selector.", func(j *batch.Job, _ time.Time) any { return selectorText(j.Spec.Selector) }),
)

var cronJobTable = table.MustBuilder(
	table.NameColumn[*batch.CronJob](),
	col("Schedule", "string", 0, "The schedule, in cron format.", func(c *batch.CronJob, _ time.Time) any { return c.Spec.Schedule }),
	col("Timezone", "string", 0, "The time zone of the schedule.", func(c *batch.CronJob, _ time.Time) any { return strOr(c.Spec.TimeZone, "<none>") }),
	col("Suspend", "boolean", 0, "Whether scheduling is suspended.", func(c *batch.CronJob, _ time.Time) any { return c.Spec.Suspend != nil && *c.Spec.Suspend }),
	col("Active", "integer", 0, "The number of running jobs.", func(c *batch.CronJob, _ time.Time) any { return i64(len(c.Status.Active)) }),
	col("Last Schedule", "string", 0, "When a job was last scheduled.", func(c *batch.CronJob, now time.Time) any {
		if c.Status.LastScheduleTime == nil {
			return "<none>"
		}
		return table.HumanDuration(now.Sub(c.Status.LastScheduleTime.Time))
	}),
	table.AgeColumn[*batch.CronJob](),
	col("Containers", "string", 1, "Names of each container in the template.", func(c *batch.CronJob, _ time.Time) any {
		return containerNames(&c.Spec.JobTemplate.Spec.Template.Spec)
	}),
	col("Images", "string", 1, "Images referenced by each container in the template.", func(c *batch.CronJob, _ time.Time) any {
		return containerImages(&c.Spec.JobTemplate.Spec.Template.Spec)
	}),
	col("Selector", "string", 1, "The label selector.", func(c *batch.CronJob, _ time.Time) any { return selectorText(c.Spec.JobTemplate.Spec.Selector) }),
)

var endpointSliceTable = table.MustBuilder(
	table.NameColumn[*discovery.EndpointSlice](),
	col("AddressType", "string", 0, "The type of the addresses.", func(s *discovery.EndpointSlice, _ time.Time) any { return string(s.AddressType) }),
	col("Ports", "string", 0, "The ports of the endpoints.", func(s *discovery.EndpointSlice, _ time.Time) any {
		var ports []string
		for _, p := range s.Ports {
			if p.Port != nil {
				ports = append(ports, fmt.Sprint(*p.Port))
			}
		}
		if len(ports) == 0 {
			return "<unset>"
		}
		return strings.Join(ports, ",")
	}),
	col("Endpoints", "string", 0, "The addresses of the endpoints.", func(s *discovery.EndpointSlice, _ time.Time) any {
		var list []string
		total := 0
		for _, ep := range s.Endpoints {
			for _, a := range ep.Addresses {
				total++
				if len(list) < 3 {
					list = append(list, a)
				}
			}
		}
		out := orNone(strings.Join(list, ","))
		if total > len(list) {
			out += fmt.Sprintf(" + %d more...", total-len(list))
		}
		return out
	}),
	table.AgeColumn[*discovery.EndpointSlice](),
)

var storageClassTable = table.MustBuilder(
	table.NameColumn[*storage.StorageClass](),
	col("Provisioner", "string", 0, "The volume plugin that provisions volumes.", func(s *storage.StorageClass, _ time.Time) any { return s.Provisioner }),
	col("ReclaimPolicy", "string", 0, "What happens to released volumes.", func(s *storage.StorageClass, _ time.Time) any {
		if s.ReclaimPolicy == nil {
			return string(api.PersistentVolumeReclaimDelete)
		}
		return string(*s.ReclaimPolicy)
	}),
	col("VolumeBindingMode", "string", 0, "When volumes are bound.", func(s *storage.StorageClass, _ time.Time) any {
		if s.VolumeBindingMode == nil {
			return string(storage.VolumeBindingImmediate)
		}
		return string(*s.VolumeBindingMode)
	}),
	col("AllowVolumeExpansion", "string", 0, "Whether volumes may grow.", func(s *storage.StorageClass, _ time.Time) any {
		return fmt.Sprint(s.AllowVolumeExpansion != nil && *s.AllowVolumeExpansion)
	}),
	table.AgeColumn[*storage.StorageClass](),
)

var priorityClassTable = table.MustBuilder(
	table.NameColumn[*scheduling.PriorityClass](),
	col("Value", "integer", 0, "The priority.", func(p *scheduling.PriorityClass, _ time.Time) any { return i64(p.Value) }),
	col("Global-Default", "boolean", 0, "Whether pods without a class get this one.", func(p *scheduling.PriorityClass, _ time.Time) any { return p.GlobalDefault }),
	table.AgeColumn[*scheduling.PriorityClass](),
	col("PreemptionPolicy", "string", 0, "Whether pods of this class preempt others.", func(p *scheduling.PriorityClass, _ time.Time) any {
		if p.PreemptionPolicy == nil {
			return string(api.PreemptLowerPriority)
		}
		return string(*p.PreemptionPolicy)
	}),
)

func intOrNA(v *api.IntOrString) string {
	if v == nil {
		return "N/A"
	}
	return v.String()
}

var podDisruptionBudgetTable = table.MustBuilder(
	table.NameColumn[*policy.PodDisruptionBudget](),
	col("Min Available", "string", 0, "The minimum number of pods that must be available.", func(p *policy.PodDisruptionBudget, _ time.Time) any { return intOrNA(p.Spec.MinAvailable) }),
	col("Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable.", func(p *policy.PodDisruptionBudget, _ time.Time) any {
		return intOrNA(p.Spec.MaxUnavailable)
	}),
	col("Allowed Disruptions", "integer", 0, "Calculated number of pods that may be disrupted at this time.", func(p *policy.PodDisruptionBudget, _ time.Time) any {
		return i64(p.Status.DisruptionsAllowed)
	}),
	table.AgeColumn[*policy.PodDisruptionBudget](),
)

// eventsV1Table shows events.k8s.io events with the columns of core
// events, as Kubernetes does.
var eventsV1Table = table.MustBuilder(
	col("Last Seen", "string", 0, "Time since the event was last seen.", func(e *events.Event, now time.Time) any {
		return eventLastSeen(&api.Event{LastTimestamp: e.DeprecatedLastTimestamp, EventTime: e.EventTime}, now)
	}),
	col("Type", "string", 0, "Type of the event (Normal or Warning).", func(e *events.Event, _ time.Time) any { return e.Type }),
	col("Reason", "string", 0, "Why the event happened.", func(e *events.Event, _ time.Time) any { return e.Reason }),
	col("Object", "string", 0, "The object the event is about.", func(e *events.Event, _ time.Time) any {
		return strings.ToLower(e.Regarding.Kind) + "/" + e.Regarding.Name
	}),
	col("Message", "string", 0, "A human-readable description.", func(e *events.Event, _ time.Time) any { return strings.TrimSpace(e.Note) }),
	table.Column[*events.Event]{Definition: table.ColumnDefinition{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: "Name of the event."},
		Cell: func(e *events.Event, _ time.Time) any { return e.Name }},
)

// csrCondition is the Condition column of a certificate signing request:
// Pending, or its conditions ("Approved,Issued").
func csrCondition(c *certificates.CertificateSigningRequest) string {
	var parts []string
	approved, denied, failed := false, false, false
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certificates.CertificateApproved:
			approved = true
		case certificates.CertificateDenied:
			denied = true
		case certificates.CertificateFailed:
			failed = true
		}
	}
	switch {
	case denied:
		parts = append(parts, "Denied")
	case approved:
		parts = append(parts, "Approved")
	default:
		parts = append(parts, "Pending")
	}
	if failed {
		parts = append(parts, "Failed")
	}
	if len(c.Status.Certificate) > 0 {
		parts = append(parts, "Issued")
	}
	return strings.Join(parts, ",")
}

var csrTable = table.MustBuilder(
	table.NameColumn[*certificates.CertificateSigningRequest](),
	table.AgeColumn[*certificates.CertificateSigningRequest](),
	col("SignerName", "string", 0, "The signer that is to sign the request.", func(c *certificates.CertificateSigningRequest, _ time.Time) any { return c.Spec.SignerName }),
	col("Requestor", "string", 0, "The user who made the request.", func(c *certificates.CertificateSigningRequest, _ time.Time) any { return c.Spec.Username }),
	col("RequestedDuration", "string", 0, "The validity the request asks for.", func(c *certificates.CertificateSigningRequest, _ time.Time) any {
		if c.Spec.ExpirationSeconds == nil {
			return "<none>"
		}
		return table.HumanDuration(time.Duration(*c.Spec.ExpirationSeconds) * time.Second)
	}),
	col("Condition", "string", 0, "The state of the request.", func(c *certificates.CertificateSigningRequest, _ time.Time) any { return csrCondition(c) }),
)

var roleTable = table.MustBuilder(table.NameColumn[*rbac.Role](), createdAt[*rbac.Role]())

var clusterRoleTable = table.MustBuilder(table.NameColumn[*rbac.ClusterRole](), createdAt[*rbac.ClusterRole]())

// subjectsOf lists the names of the subjects of a kind ("User", "Group",
// "ServiceAccount" as namespace/name).
func subjectsOf(subjects []rbac.Subject, kind string) string {
	var names []string
	for _, s := range subjects {
		if s.Kind != kind {
			continue
		}
		if kind == rbac.ServiceAccountKind {
			names = append(names, s.Namespace+"/"+s.Name)
		} else {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func bindingColumns[T store.Object](subjects func(T) []rbac.Subject, ref func(T) rbac.RoleRef) *table.Builder[T] {
	return table.MustBuilder(
		table.NameColumn[T](),
		col("Role", "string", 0, "The role the binding grants.", func(b T, _ time.Time) any { r := ref(b); return r.Kind + "/" + r.Name }),
		table.AgeColumn[T](),
		col("Users", "string", 1, "Users in the binding.", func(b T, _ time.Time) any { return subjectsOf(subjects(b), rbac.UserKind) }),
		col("Groups", "string", 1, "Groups in the binding.", func(b T, _ time.Time) any { return subjectsOf(subjects(b), rbac.GroupKind) }),
		col("ServiceAccounts", "string", 1, "Service accounts in the binding.", func(b T, _ time.Time) any {
			return subjectsOf(subjects(b), rbac.ServiceAccountKind)
		}),
	)
}

var roleBindingTable = bindingColumns(func(b *rbac.RoleBinding) []rbac.Subject { return b.Subjects }, func(b *rbac.RoleBinding) rbac.RoleRef { return b.RoleRef })

var clusterRoleBindingTable = bindingColumns(func(b *rbac.ClusterRoleBinding) []rbac.Subject { return b.Subjects },
	func(b *rbac.ClusterRoleBinding) rbac.RoleRef { return b.RoleRef })
