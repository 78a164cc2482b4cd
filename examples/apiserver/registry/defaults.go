package registry

import (
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
)

func ptr[T any](v T) *T { return &v }

func defaultNamespace(n *api.Namespace) {
	if n.Status.Phase == "" {
		n.Status.Phase = api.NamespaceActive
	}
}

// defaultPodSpec fills a pod spec's defaults (also used for templates).
func defaultPodSpec(s *api.PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = api.RestartPolicyAlways
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(int64(30))
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = api.DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = "default-scheduler"
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.Tolerations {
		if s.Tolerations[i].Operator == "" && s.Tolerations[i].Key != "" {
			s.Tolerations[i].Operator = api.TolerationOpEqual
		}
	}
	for i := range s.Volumes {
		if s.Volumes[i].HostPath != nil && s.Volumes[i].HostPath.Type == nil {
			s.Volumes[i].HostPath.Type = ptr(api.HostPathUnset)
		}
	}
}

func defaultContainer(c *api.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = api.ProtocolTCP
		}
	}
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
}

// defaultPullPolicy is Always for untagged or ":latest" images, IfNotPresent
// otherwise (a digest counts as a tag).
func defaultPullPolicy(image string) api.PullPolicy {
	if strings.Contains(image, "@") {
		return api.PullIfNotPresent
	}
	name := image
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return api.PullAlways
	}
	return api.PullIfNotPresent
}

func defaultProbe(p *api.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HTTPGet != nil {
		if p.HTTPGet.Path == "" {
			p.HTTPGet.Path = "/"
		}
		if p.HTTPGet.Scheme == "" {
			p.HTTPGet.Scheme = api.URISchemeHTTP
		}
	}
}

func defaultPod(p *api.Pod) {
	defaultPodSpec(&p.Spec)
	if p.Status.Phase == "" {
		p.Status.Phase = api.PodPending
	}
}

func defaultService(s *api.Service) {
	if s.Spec.Type == "" {
		s.Spec.Type = api.ServiceTypeClusterIP
	}
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = api.ServiceAffinityNone
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = api.ProtocolTCP
		}
		if p.TargetPort == (api.IntOrString{}) {
			p.TargetPort = api.FromInt(p.Port)
		}
	}
	if s.Spec.ClusterIP != "" && len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
}

func defaultEndpoints(e *api.Endpoints) {
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if e.Subsets[i].Ports[j].Protocol == "" {
				e.Subsets[i].Ports[j].Protocol = api.ProtocolTCP
			}
		}
	}
}

func defaultEvent(e *api.Event) {
	if e.Type == "" {
		e.Type = "Normal"
	}
	if e.Count == 0 {
		e.Count = 1
	}
}

// defaultReplicas sets a workload's replicas to 1. (A missing selector is
// not defaulted from the template's labels: apps/v1 requires it, so
// validation reports it.)
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
