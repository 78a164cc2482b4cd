package registry

import (
	"math"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/api/storage"
)

// Defaults of the other groups' kinds, as Kubernetes' defaulting sets them
// (pkg/apis/<group>/v1/defaults.go). apps/v1 does not default a missing
// selector from the template's labels (validation reports it).

func defaultReplicas(r **int32) {
	if *r == nil {
		*r = ptr(int32(1))
	}
}

func defaultRevisionHistory(r **int32) {
	if *r == nil {
		*r = ptr(int32(10))
	}
}

func defaultReplicaSet(r *apps.ReplicaSet) {
	defaultReplicas(&r.Spec.Replicas)
	defaultPodSpec(&r.Spec.Template.Spec)
}

func defaultDeployment(d *apps.Deployment) {
	defaultReplicas(&d.Spec.Replicas)
	defaultRevisionHistory(&d.Spec.RevisionHistoryLimit)
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = ptr(int32(600))
	}
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = apps.RollingUpdateDeploymentStrategyType
	}
	if st.Type == apps.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &apps.RollingUpdateDeployment{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = ptr(api.FromString("25%"))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = ptr(api.FromString("25%"))
		}
	}
	defaultPodSpec(&d.Spec.Template.Spec)
}

func defaultStatefulSet(s *apps.StatefulSet) {
	defaultReplicas(&s.Spec.Replicas)
	defaultRevisionHistory(&s.Spec.RevisionHistoryLimit)
	if s.Spec.PodManagementPolicy == "" {
		s.Spec.PodManagementPolicy = apps.OrderedReadyPodManagement
	}
	us := &s.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = apps.RollingUpdateStatefulSetStrategyType
	}
	if us.Type == apps.RollingUpdateStatefulSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &apps.RollingUpdateStatefulSetStrategy{}
		}
		if us.RollingUpdate.Partition == nil {
			us.RollingUpdate.Partition = ptr(int32(0))
		}
	}
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &apps.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	p := s.Spec.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted == "" {
		p.WhenDeleted = apps.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p.WhenScaled == "" {
		p.WhenScaled = apps.RetainPersistentVolumeClaimRetentionPolicyType
	}
	// the claim templates are claims: Kubernetes defaults them as such
	for i := range s.Spec.VolumeClaimTemplates {
		defaultPersistentVolumeClaim(&s.Spec.VolumeClaimTemplates[i])
	}
	defaultPodSpec(&s.Spec.Template.Spec)
}

func defaultDaemonSet(d *apps.DaemonSet) {
	defaultRevisionHistory(&d.Spec.RevisionHistoryLimit)
	us := &d.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = apps.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == apps.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &apps.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			us.RollingUpdate.MaxUnavailable = ptr(api.FromInt(1))
		}
		if us.RollingUpdate.MaxSurge == nil {
			us.RollingUpdate.MaxSurge = ptr(api.FromInt(0))
		}
	}
	defaultPodSpec(&d.Spec.Template.Spec)
}

// defaultJobSpec fills a job spec's defaults; labels are the job's, to be
// filled from the template's when empty.
func defaultJobSpec(s *batch.JobSpec, labels *map[string]string) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
		s.Parallelism = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr(int32(math.MaxInt32))
		} else {
			s.BackoffLimit = ptr(int32(6))
		}
	}
	if l := s.Template.Labels; l != nil && len(*labels) == 0 {
		*labels = l
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr(batch.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.PodReplacementPolicy == nil {
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr(batch.Failed)
		} else {
			s.PodReplacementPolicy = ptr(batch.TerminatingOrFailed)
		}
	}
	defaultPodSpec(&s.Template.Spec)
}

func defaultJob(j *batch.Job) { defaultJobSpec(&j.Spec, &j.Labels) }

func defaultCronJob(c *batch.CronJob) {
	s := &c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batch.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
	defaultPodSpec(&s.JobTemplate.Spec.Template.Spec)
}

func defaultEndpointSlice(e *discovery.EndpointSlice) {
	for i := range e.Ports {
		if e.Ports[i].Name == nil {
			e.Ports[i].Name = ptr("")
		}
		if e.Ports[i].Protocol == nil {
			e.Ports[i].Protocol = ptr(api.ProtocolTCP)
		}
	}
}

func defaultStorageClass(s *storage.StorageClass) {
	if s.ReclaimPolicy == nil {
		s.ReclaimPolicy = ptr(api.PersistentVolumeReclaimDelete)
	}
	if s.VolumeBindingMode == nil {
		s.VolumeBindingMode = ptr(storage.VolumeBindingImmediate)
	}
}

func defaultPriorityClass(p *scheduling.PriorityClass) {
	if p.PreemptionPolicy == nil {
		p.PreemptionPolicy = ptr(api.PreemptLowerPriority)
	}
}

// defaultSubjects sets the API group of users and groups, as Kubernetes
// does for bindings.
func defaultSubjects(subjects []rbac.Subject, ref *rbac.RoleRef) {
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbac.UserKind || s.Kind == rbac.GroupKind) {
			s.APIGroup = rbac.GroupName
		}
	}
	if ref.APIGroup == "" {
		ref.APIGroup = rbac.GroupName
	}
}

func defaultRoleBinding(b *rbac.RoleBinding) { defaultSubjects(b.Subjects, &b.RoleRef) }

func defaultClusterRoleBinding(b *rbac.ClusterRoleBinding) { defaultSubjects(b.Subjects, &b.RoleRef) }
