package dns

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/store"
)

// Defaults of ClusterConfig.
const (
	// DefaultHealthPort serves /healthz, /readyz and /metrics in the pod.
	DefaultHealthPort = 8181
	// DefaultReplicas is how many DNS pods run (two, as kubeadm's CoreDNS).
	DefaultReplicas = 2
	// KubeconfigKey is the key of the kubeconfig in ClusterConfig.KubeconfigSecret.
	KubeconfigKey = "kubeconfig"
)

// ClusterConfig says how the DNS server runs inside the cluster. Image,
// ClusterIP and KubeconfigSecret are required.
type ClusterConfig struct {
	// Image holds the dns program (examples/cmd/dns) at Command[0].
	Image string
	// Command starts it; default ["/dns"].
	Command []string
	// ClusterIP is the kube-dns Service's fixed address, the nameserver
	// kubelets write into pods' resolv.conf.
	ClusterIP string
	// KubeconfigSecret names a Secret in kube-system whose KubeconfigKey
	// holds the kubeconfig the server reads the cluster with (the example
	// client has no in-cluster configuration).
	KubeconfigSecret string
	// Domain is the cluster domain; default DefaultDomain.
	Domain string
	// Replicas of the Deployment; default DefaultReplicas.
	Replicas int32
}

// ClusterObjects returns what runs the DNS server in the cluster, in the
// order to create them: the kube-dns ServiceAccount, a ClusterRole that
// may list and watch services and endpoint slices and its binding, the
// kube-dns Deployment (port 53 UDP and TCP, readiness on /readyz) and the
// kube-dns Service at cc.ClusterIP (ports dns/UDP, dns-tcp/TCP 53 and
// metrics 8181), all in kube-system, labelled k8s-app=kube-dns as
// Kubernetes' own DNS add-on is.
func ClusterObjects(cc ClusterConfig) ([]store.Object, error) {
	switch {
	case cc.Image == "":
		return nil, errors.New("dns: ClusterConfig.Image is required")
	case cc.KubeconfigSecret == "":
		return nil, errors.New("dns: ClusterConfig.KubeconfigSecret is required")
	case cc.Replicas < 0:
		return nil, fmt.Errorf("dns: ClusterConfig.Replicas %d is negative", cc.Replicas)
	}
	if _, err := netip.ParseAddr(cc.ClusterIP); err != nil {
		return nil, fmt.Errorf("dns: ClusterConfig.ClusterIP %q: %w", cc.ClusterIP, err)
	}
	if cc.Domain == "" {
		cc.Domain = DefaultDomain
	}
	if cc.Replicas == 0 {
		cc.Replicas = DefaultReplicas
	}
	if len(cc.Command) == 0 {
		cc.Command = []string{"/dns"}
	}
	ns, name := DefaultServiceNamespace, DefaultServiceName
	labels := map[string]string{"k8s-app": name}
	meta := func(o *store.ObjectMeta, namespace string) {
		o.Namespace, o.Name, o.Labels = namespace, name, labels
	}

	sa := &api.ServiceAccount{}
	meta(&sa.ObjectMeta, ns)
	role := &rbac.ClusterRole{Rules: []rbac.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
	}}
	meta(&role.ObjectMeta, "")
	role.Name = "setpoint-kube-dns"
	bind := &rbac.ClusterRoleBinding{
		RoleRef:  rbac.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbac.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}},
	}
	meta(&bind.ObjectMeta, "")
	bind.Name = role.Name

	args := append(append([]string(nil), cc.Command[1:]...),
		"--kubeconfig=/etc/kube-dns/"+KubeconfigKey, "--listen=:53", "--domain="+cc.Domain,
		fmt.Sprintf("--http=:%d", DefaultHealthPort), fmt.Sprintf("--service=%s/%s", ns, name))
	probe := func(path string) *api.Probe {
		return &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: path, Port: api.FromInt(DefaultHealthPort)}},
			PeriodSeconds: 10}
	}
	replicas := cc.Replicas
	dep := &apps.Deployment{Spec: apps.DeploymentSpec{
		Replicas: &replicas,
		Selector: &api.LabelSelector{MatchLabels: labels},
		Template: api.PodTemplateSpec{Spec: api.PodSpec{
			ServiceAccountName: name,
			DNSPolicy:          api.DNSDefault, // the DNS server does not resolve through itself
			Containers: []api.Container{{
				Name: "dns", Image: cc.Image, Command: cc.Command[:1], Args: args,
				Ports: []api.ContainerPort{
					{Name: "dns", ContainerPort: 53, Protocol: api.ProtocolUDP},
					{Name: "dns-tcp", ContainerPort: 53, Protocol: api.ProtocolTCP},
					{Name: "metrics", ContainerPort: DefaultHealthPort, Protocol: api.ProtocolTCP},
				},
				ReadinessProbe: probe("/readyz"),
				LivenessProbe:  probe("/healthz"),
				VolumeMounts:   []api.VolumeMount{{Name: "kubeconfig", MountPath: "/etc/kube-dns", ReadOnly: true}},
			}},
			Volumes: []api.Volume{{Name: "kubeconfig", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: cc.KubeconfigSecret}}}},
		}},
	}}
	meta(&dep.ObjectMeta, ns)
	dep.Spec.Template.Labels = labels

	svc := &api.Service{Spec: api.ServiceSpec{
		Selector:   labels,
		ClusterIP:  cc.ClusterIP,
		ClusterIPs: []string{cc.ClusterIP},
		Ports: []api.ServicePort{
			{Name: "dns", Port: 53, Protocol: api.ProtocolUDP, TargetPort: api.FromInt(53)},
			{Name: "dns-tcp", Port: 53, Protocol: api.ProtocolTCP, TargetPort: api.FromInt(53)},
			{Name: "metrics", Port: DefaultHealthPort, Protocol: api.ProtocolTCP, TargetPort: api.FromInt(DefaultHealthPort)},
		},
	}}
	meta(&svc.ObjectMeta, ns)
	return []store.Object{sa, role, bind, dep, svc}, nil
}
