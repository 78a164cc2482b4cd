package registry

import (
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// Defaults of the core (v1) kinds, as Kubernetes' defaulting sets them
// (pkg/apis/core/v1/defaults.go and the +default markers of the API
// types): only unset fields are filled, and defaulting twice changes
// nothing.

func ptr[T any](v T) *T { return &v }

// Default values Kubernetes documents.
const (
	defaultTerminationGracePeriod = 30
	defaultSchedulerName          = "default-scheduler"
	terminationMessagePath        = "/dev/termination-log"
	defaultVolumeMode             = 0o644 // secret, configMap, downwardAPI and projected volumes
	serviceAccountTokenExpiration = 3600  // seconds
	clientIPAffinityTimeout       = 10800 // seconds, three hours
	// LabelMetadataName is the label every namespace gets, holding its name.
	LabelMetadataName = "kubernetes.io/metadata.name"
)

func defaultNamespace(n *api.Namespace) {
	if n.Name != "" {
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[LabelMetadataName] = n.Name
	}
	if n.Status.Phase == "" {
		n.Status.Phase = api.NamespaceActive
	}
}

func defaultNode(n *api.Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = make(api.ResourceList, len(n.Status.Capacity))
		for k, v := range n.Status.Capacity {
			n.Status.Allocatable[k] = v
		}
	}
	defaultResourceList(n.Status.Capacity)
	defaultResourceList(n.Status.Allocatable)
}

// defaultResourceList rounds every amount up to a whole 1m, as Kubernetes
// does on write.
func defaultResourceList(rl api.ResourceList) {
	for k, v := range rl {
		rl[k] = v.RoundUpMilli()
	}
}

// defaultPodSpec fills a pod spec's defaults; templates (workloads, jobs,
// pod templates) get these, pods also defaultPod's.
func defaultPodSpec(s *api.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = api.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = api.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &api.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(int64(defaultTerminationGracePeriod))
	}
	if s.SchedulerName == "" {
		s.SchedulerName = defaultSchedulerName
	}
	// serviceAccount is the deprecated spelling of serviceAccountName; v1
	// objects carry both
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	s.DeprecatedServiceAccount = s.ServiceAccountName
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		c := api.Container(s.EphemeralContainers[i].EphemeralContainerCommon)
		defaultContainer(&c)
		s.EphemeralContainers[i].EphemeralContainerCommon = api.EphemeralContainerCommon(c)
	}
	defaultResourceList(s.Overhead)
	if s.Resources != nil {
		defaultResourceList(s.Resources.Limits)
		defaultResourceList(s.Resources.Requests)
	}
}

func defaultContainer(c *api.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = terminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = api.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = api.ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
	defaultResourceList(c.Resources.Limits)
	defaultResourceList(c.Resources.Requests)
	defaultProbe(c.LivenessProbe)
	defaultProbe(c.ReadinessProbe)
	defaultProbe(c.StartupProbe)
	if l := c.Lifecycle; l != nil {
		for _, h := range []*api.LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

// defaultPullPolicy is Always for an image tagged ":latest" or not tagged
// at all (the tag then is latest), IfNotPresent otherwise (a digest counts
// as a tag).
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
	defaultHTTPGet(p.HTTPGet)
	if p.GRPC != nil && p.GRPC.Service == nil {
		p.GRPC.Service = ptr("")
	}
}

func defaultHTTPGet(h *api.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = api.URISchemeHTTP
	}
}

func defaultMode(m **int32) {
	if *m == nil {
		*m = ptr(int32(defaultVolumeMode))
	}
}

func defaultVolume(v *api.Volume) {
	s := &v.VolumeSource
	if *s == (api.VolumeSource{}) {
		s.EmptyDir = &api.EmptyDirVolumeSource{}
	}
	if s.HostPath != nil && s.HostPath.Type == nil {
		s.HostPath.Type = ptr(api.HostPathUnset)
	}
	if s.Secret != nil {
		defaultMode(&s.Secret.DefaultMode)
	}
	if s.ConfigMap != nil {
		defaultMode(&s.ConfigMap.DefaultMode)
	}
	if s.DownwardAPI != nil {
		defaultMode(&s.DownwardAPI.DefaultMode)
		for i := range s.DownwardAPI.Items {
			if f := s.DownwardAPI.Items[i].FieldRef; f != nil && f.APIVersion == "" {
				f.APIVersion = "v1"
			}
		}
	}
	if s.Projected != nil {
		defaultMode(&s.Projected.DefaultMode)
		for i := range s.Projected.Sources {
			src := &s.Projected.Sources[i]
			if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				t.ExpirationSeconds = ptr(int64(serviceAccountTokenExpiration))
			}
			if d := src.DownwardAPI; d != nil {
				for j := range d.Items {
					if f := d.Items[j].FieldRef; f != nil && f.APIVersion == "" {
						f.APIVersion = "v1"
					}
				}
			}
		}
	}
	if e := s.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		defaultPVCSpec(&e.VolumeClaimTemplate.Spec)
	}
	if s.EmptyDir != nil && s.EmptyDir.SizeLimit != nil {
		*s.EmptyDir.SizeLimit = s.EmptyDir.SizeLimit.RoundUpMilli()
	}
	// the +default markers of the volume plugins' types
	if d := s.AzureDisk; d != nil {
		if d.CachingMode == nil {
			d.CachingMode = ptr(api.AzureDataDiskCachingReadWrite)
		}
		if d.FSType == nil {
			d.FSType = ptr("ext4")
		}
		if d.ReadOnly == nil {
			d.ReadOnly = ptr(false)
		}
		if d.Kind == nil {
			d.Kind = ptr(api.AzureSharedBlobDisk)
		}
	}
	if r := s.RBD; r != nil {
		defaultString(&r.RBDPool, "rbd")
		defaultString(&r.RadosUser, "admin")
		defaultString(&r.Keyring, "/etc/ceph/keyring")
	}
	if i := s.ISCSI; i != nil {
		defaultString(&i.ISCSIInterface, "default")
	}
	if sc := s.ScaleIO; sc != nil {
		defaultString(&sc.FSType, "xfs")
		defaultString(&sc.StorageMode, "ThinProvisioned")
	}
}

func defaultString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// defaultPod adds, to defaultPodSpec, what Kubernetes defaults on pods
// only: requests from limits where only limits are set, service links on,
// and host ports equal to container ports on the host network.
func defaultPod(p *api.Pod) {
	defaultPodSpec(&p.Spec)
	for _, cs := range [][]api.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for i := range cs {
			r := &cs[i].Resources
			if r.Limits == nil {
				continue
			}
			if r.Requests == nil {
				r.Requests = api.ResourceList{}
			}
			for k, v := range r.Limits {
				if _, ok := r.Requests[k]; !ok {
					r.Requests[k] = v
				}
			}
		}
	}
	if p.Spec.EnableServiceLinks == nil {
		p.Spec.EnableServiceLinks = ptr(true)
	}
	if p.Spec.HostNetwork {
		for _, cs := range [][]api.Container{p.Spec.Containers, p.Spec.InitContainers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].HostPort == 0 {
						cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
					}
				}
			}
		}
	}
}

// podQOS is the pod's quality of service class as Kubernetes computes it:
// BestEffort without any cpu or memory request or limit, Guaranteed when
// every container limits cpu and memory and requests exactly that,
// Burstable otherwise.
func podQOS(s *api.PodSpec) api.PodQOSClass {
	any, guaranteed := false, true
	for _, cs := range [][]api.Container{s.Containers, s.InitContainers} {
		for _, c := range cs {
			for _, res := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
				req, hasReq := c.Resources.Requests[res]
				lim, hasLim := c.Resources.Limits[res]
				if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
					any = true
				}
				if !hasLim || (hasReq && req.Cmp(lim) != 0) {
					guaranteed = false
				}
			}
		}
	}
	switch {
	case !any:
		return api.PodQOSBestEffort
	case guaranteed:
		return api.PodQOSGuaranteed
	}
	return api.PodQOSBurstable
}

func defaultService(s *api.Service) {
	sp := &s.Spec
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = api.ServiceAffinityNone
	}
	if sp.SessionAffinity == api.ServiceAffinityNone {
		sp.SessionAffinityConfig = nil
	}
	if sp.SessionAffinity == api.ServiceAffinityClientIP {
		if c := sp.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			sp.SessionAffinityConfig = &api.SessionAffinityConfig{ClientIP: &api.ClientIPConfig{TimeoutSeconds: ptr(int32(clientIPAffinityTimeout))}}
		}
	}
	if sp.Type == "" {
		sp.Type = api.ServiceTypeClusterIP
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = api.ProtocolTCP
		}
		if p.TargetPort == (api.IntOrString{}) || p.TargetPort == api.FromString("") {
			p.TargetPort = api.FromInt(p.Port)
		}
	}
	external := sp.Type == api.ServiceTypeNodePort || sp.Type == api.ServiceTypeLoadBalancer
	if external && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = api.ServiceExternalTrafficPolicyCluster
	}
	if sp.InternalTrafficPolicy == nil && (external || sp.Type == api.ServiceTypeClusterIP) {
		sp.InternalTrafficPolicy = ptr(api.ServiceInternalTrafficPolicyCluster)
	}
	if sp.Type == api.ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		sp.AllocateLoadBalancerNodePorts = ptr(true)
	}
	if sp.ClusterIP != "" && len(sp.ClusterIPs) == 0 {
		sp.ClusterIPs = []string{sp.ClusterIP}
	}
	if sp.Type != api.ServiceTypeExternalName {
		if sp.IPFamilyPolicy == nil {
			sp.IPFamilyPolicy = ptr(api.IPFamilyPolicySingleStack)
		}
		if len(sp.IPFamilies) == 0 {
			family := api.IPv4Protocol
			if strings.Contains(sp.ClusterIP, ":") {
				family = api.IPv6Protocol
			}
			sp.IPFamilies = []api.IPFamily{family}
		}
	}
	if sp.Type == api.ServiceTypeLoadBalancer {
		for i := range s.Status.LoadBalancer.Ingress {
			if ing := &s.Status.LoadBalancer.Ingress[i]; ing.IP != "" && ing.IPMode == nil {
				ing.IPMode = ptr(api.LoadBalancerIPModeVIP)
			}
		}
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

func defaultResourceQuota(q *api.ResourceQuota) {
	defaultResourceList(q.Spec.Hard)
	defaultResourceList(q.Status.Hard)
	defaultResourceList(q.Status.Used)
}

func defaultLimitRange(l *api.LimitRange) {
	for i := range l.Spec.Limits {
		it := &l.Spec.Limits[i]
		for _, rl := range []api.ResourceList{it.Max, it.Min, it.Default, it.DefaultRequest, it.MaxLimitRequestRatio} {
			defaultResourceList(rl)
		}
		if it.Type != api.LimitTypeContainer {
			continue
		}
		if it.Default == nil {
			it.Default = api.ResourceList{}
		}
		if it.DefaultRequest == nil {
			it.DefaultRequest = api.ResourceList{}
		}
		// a missing default limit is the max; a missing default request
		// the default limit, else the min
		for k, v := range it.Max {
			if _, ok := it.Default[k]; !ok {
				it.Default[k] = v
			}
		}
		for k, v := range it.Default {
			if _, ok := it.DefaultRequest[k]; !ok {
				it.DefaultRequest[k] = v
			}
		}
		for k, v := range it.Min {
			if _, ok := it.DefaultRequest[k]; !ok {
				it.DefaultRequest[k] = v
			}
		}
	}
}

func defaultSecret(s *api.Secret) {
	if s.Type == "" {
		s.Type = api.SecretTypeOpaque
	}
	// stringData is write-only: merged into data (winning over it), never
	// stored, as Kubernetes does
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
}

func defaultReplicationController(rc *api.ReplicationController) {
	if t := rc.Spec.Template; t != nil && t.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = t.Labels
		}
		if len(rc.Labels) == 0 {
			rc.Labels = t.Labels
		}
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr(int32(1))
	}
	if rc.Spec.Template != nil {
		defaultPodSpec(&rc.Spec.Template.Spec)
	}
}

func defaultPodTemplate(t *api.PodTemplate) { defaultPodSpec(&t.Template.Spec) }

func defaultPersistentVolume(pv *api.PersistentVolume) {
	if pv.Status.Phase == "" {
		pv.Status.Phase = api.VolumePending
	}
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = api.PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptr(api.PersistentVolumeFilesystem)
	}
	defaultResourceList(pv.Spec.Capacity)
	if r := pv.Spec.RBD; r != nil {
		defaultString(&r.RBDPool, "rbd")
		defaultString(&r.RadosUser, "admin")
		defaultString(&r.Keyring, "/etc/ceph/keyring")
	}
	if i := pv.Spec.ISCSI; i != nil {
		defaultString(&i.ISCSIInterface, "default")
	}
	if sc := pv.Spec.ScaleIO; sc != nil {
		defaultString(&sc.FSType, "xfs")
		defaultString(&sc.StorageMode, "ThinProvisioned")
	}
	if hp := pv.Spec.HostPath; hp != nil && hp.Type == nil {
		hp.Type = ptr(api.HostPathUnset)
	}
}

func defaultPVCSpec(s *api.PersistentVolumeClaimSpec) {
	if s.VolumeMode == nil {
		s.VolumeMode = ptr(api.PersistentVolumeFilesystem)
	}
	defaultResourceList(s.Resources.Limits)
	defaultResourceList(s.Resources.Requests)
}

func defaultPersistentVolumeClaim(pvc *api.PersistentVolumeClaim) {
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = api.ClaimPending
	}
	defaultPVCSpec(&pvc.Spec)
}
