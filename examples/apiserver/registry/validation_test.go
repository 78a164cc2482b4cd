package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/api/autoscaling"
	"github.com/setpoint-dev/setpoint/store"
)

func validPod() *api.Pod {
	p := PodKind.New()
	p.Name, p.Namespace = "web", "default"
	p.Labels = map[string]string{"app": "web"}
	p.Spec.Containers = []api.Container{{Name: "web", Image: "nginx:1.27", Ports: []api.ContainerPort{{ContainerPort: 80}},
		Resources: api.ResourceRequirements{Requests: api.ResourceList{"cpu": api.MustParse("100m")}, Limits: api.ResourceList{"cpu": api.MustParse("1")}}}}
	PodKind.Default(p)
	return p
}

func validDeployment() *apps.Deployment {
	d := DeploymentKind.New()
	d.Name, d.Namespace = "web", "default"
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	d.Spec.Template.Spec.Containers = []api.Container{{Name: "web", Image: "nginx:1.27"}}
	DeploymentKind.Default(d)
	return d
}

// fieldsOf returns the field paths of a validation error, failing the test
// if err is not a store.FieldErrors wrapping store.ErrInvalid.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("error does not wrap store.ErrInvalid: %v", err)
	}
	var fe store.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error is not store.FieldErrors: %T %v", err, err)
	}
	var fields []string
	for _, e := range fe {
		fields = append(fields, e.Field)
	}
	return fields
}

func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	got := fieldsOf(t, err)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("error fields = %q, want %q (err: %v)", got, want, err)
	}
}

func TestPodDefaults(t *testing.T) {
	p := &api.Pod{Spec: api.PodSpec{Containers: []api.Container{
		{Name: "a", Image: "nginx", Ports: []api.ContainerPort{{ContainerPort: 80}}, LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(80)}}}},
		{Name: "b", Image: "nginx:latest"},
		{Name: "c", Image: "registry:5000/nginx:1.2"},
		{Name: "d", Image: "nginx@sha256:abc"},
		{Name: "e", Image: "x", ImagePullPolicy: "Never"},
	}}}
	PodKind.Default(p)
	if p.Spec.RestartPolicy != "Always" || *p.Spec.TerminationGracePeriodSeconds != 30 || p.Spec.DNSPolicy != "ClusterFirst" ||
		p.Spec.SchedulerName != "default-scheduler" || p.Status.Phase != api.PodPending {
		t.Fatalf("pod defaults: %+v", p.Spec)
	}
	want := []api.PullPolicy{"Always", "Always", "IfNotPresent", "IfNotPresent", "Never"}
	for i, c := range p.Spec.Containers {
		if c.ImagePullPolicy != want[i] {
			t.Errorf("container %s: imagePullPolicy %q, want %q", c.Name, c.ImagePullPolicy, want[i])
		}
	}
	if p.Spec.Containers[0].Ports[0].Protocol != "TCP" {
		t.Error("port protocol not defaulted")
	}
	pr := p.Spec.Containers[0].LivenessProbe
	if pr.TimeoutSeconds != 1 || pr.PeriodSeconds != 10 || pr.SuccessThreshold != 1 || pr.FailureThreshold != 3 || pr.HTTPGet.Path != "/" || pr.HTTPGet.Scheme != "HTTP" {
		t.Errorf("probe defaults: %+v", pr)
	}
	// defaulting is idempotent
	q := p.DeepCopy()
	PodKind.Default(q)
	if !deepEqual(p, q) {
		t.Error("defaulting twice changed the pod")
	}
}

func TestWorkloadAndServiceDefaults(t *testing.T) {
	d := &apps.Deployment{}
	DeploymentKind.Default(d)
	ru := d.Spec.Strategy.RollingUpdate
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != apps.RollingUpdateDeploymentStrategyType || ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "25%" ||
		*d.Spec.RevisionHistoryLimit != 10 || *d.Spec.ProgressDeadlineSeconds != 600 || d.Spec.Template.Spec.RestartPolicy != "Always" {
		t.Fatalf("deployment defaults: %+v", d.Spec)
	}
	r := &apps.Deployment{Spec: apps.DeploymentSpec{Strategy: apps.DeploymentStrategy{Type: apps.RecreateDeploymentStrategyType}}}
	DeploymentKind.Default(r)
	if r.Spec.Strategy.RollingUpdate != nil {
		t.Fatal("Recreate got rollingUpdate defaults")
	}
	s := &apps.StatefulSet{}
	StatefulSetKind.Default(s)
	if *s.Spec.Replicas != 1 || s.Spec.PodManagementPolicy != "OrderedReady" || *s.Spec.UpdateStrategy.RollingUpdate.Partition != 0 {
		t.Fatalf("statefulset defaults: %+v", s.Spec)
	}
	ds := &apps.DaemonSet{}
	DaemonSetKind.Default(ds)
	if ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.String() != "1" || ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge.String() != "0" {
		t.Fatalf("daemonset defaults: %+v", ds.Spec.UpdateStrategy)
	}
	rs := &apps.ReplicaSet{}
	ReplicaSetKind.Default(rs)
	if *rs.Spec.Replicas != 1 {
		t.Fatal("replicaset replicas not defaulted")
	}
	svc := &api.Service{Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 80}, {Port: 53, Protocol: "UDP", TargetPort: api.FromString("dns")}}}}
	ServiceKind.Default(svc)
	if svc.Spec.Type != api.ServiceTypeClusterIP || svc.Spec.Ports[0].Protocol != "TCP" || svc.Spec.Ports[0].TargetPort != api.FromInt(80) ||
		svc.Spec.Ports[1].TargetPort != api.FromString("dns") || svc.Spec.SessionAffinity != "None" {
		t.Fatalf("service defaults: %+v", svc.Spec)
	}
	ns := &api.Namespace{}
	NamespaceKind.Default(ns)
	if ns.Status.Phase != api.NamespaceActive {
		t.Fatal("namespace phase not defaulted")
	}
	ev := &api.Event{}
	EventKind.Default(ev)
	if ev.Type != "Normal" || ev.Count != 1 {
		t.Fatal("event defaults")
	}
}

func TestValidPodPasses(t *testing.T) {
	if err := PodKind.Validate(validPod()); err != nil {
		t.Fatal(err)
	}
	if err := DeploymentKind.Validate(validDeployment()); err != nil {
		t.Fatal(err)
	}
}

func TestPodValidationFieldPaths(t *testing.T) {
	p := validPod()
	p.Name = "Bad_Name"
	p.Namespace = ""
	p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: "web", ImagePullPolicy: "Sometimes",
		Ports: []api.ContainerPort{{ContainerPort: 70000, Protocol: "TCP"}, {ContainerPort: 81, Protocol: "ICMP", Name: "too-long-port-name-x"}},
		Env:   []api.EnvVar{{Name: "1BAD"}},
		Resources: api.ResourceRequirements{
			Requests: api.ResourceList{"memory": api.MustParse("2Gi"), "cpu": api.MustParse("-1")},
			Limits:   api.ResourceList{"memory": api.MustParse("1Gi")},
		},
		VolumeMounts:   []api.VolumeMount{{Name: "missing", MountPath: "/x"}},
		ReadinessProbe: &api.Probe{},
	})
	p.Spec.RestartPolicy = "Sometimes"
	p.Spec.Tolerations = []api.Toleration{{Operator: "Equal", Value: "x"}, {Key: "k", Operator: "Exists", Value: "v", TolerationSeconds: ptr(int64(5)), Effect: api.TaintEffectNoSchedule}}
	err := PodKind.Validate(p)
	wantFields(t, err,
		"metadata.name", "metadata.namespace",
		"spec.containers[1].name", "spec.containers[1].image", "spec.containers[1].imagePullPolicy",
		"spec.containers[1].ports[0].containerPort", "spec.containers[1].ports[1].protocol", "spec.containers[1].ports[1].name",
		"spec.containers[1].env[0].name",
		"spec.containers[1].resources.requests[cpu]",
		"spec.containers[1].resources.requests[memory]",
		"spec.containers[1].volumeMounts[0].name",
		"spec.containers[1].readinessProbe",
		"spec.restartPolicy",
		"spec.tolerations[0].operator", "spec.tolerations[1].value", "spec.tolerations[1].effect",
	)
	msg := err.Error()
	for _, want := range []string{`spec.containers[1].image: Required value`, `Unsupported value: supported values: "Always", "OnFailure", "Never"`,
		"must be less than or equal to memory limit of 1Gi", "must be between 1 and 65535"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if err := PodKind.Validate(&api.Pod{ObjectMeta: store.ObjectMeta{Name: "x", Namespace: "d"}}); err == nil {
		t.Fatal("pod without containers accepted")
	} else {
		wantFields(t, err, "spec.containers", "spec.restartPolicy")
	}
}

func TestPodUpdateValidation(t *testing.T) {
	old := validPod()
	img := old.DeepCopy()
	img.Spec.Containers[0].Image = "nginx:1.28"
	img.Spec.Tolerations = append(img.Spec.Tolerations, api.Toleration{Key: "a", Operator: "Exists"})
	if err := PodKind.ValidateUpdate(img, old); err != nil {
		t.Fatalf("image change and added toleration rejected: %v", err)
	}
	bad := old.DeepCopy()
	bad.Spec.NodeName = "node-2"
	wantFields(t, PodKind.ValidateUpdate(bad, old), "spec")
}

func TestWorkloadValidation(t *testing.T) {
	d := validDeployment()
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	d.Spec.Replicas = ptr(int32(-1))
	d.Spec.Template.Spec.RestartPolicy = "Never"
	d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(api.FromString("120%"))
	d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(api.FromString("abc"))
	wantFields(t, DeploymentKind.Validate(d),
		"spec.replicas", "spec.template.metadata.labels", "spec.template.spec.restartPolicy",
		"spec.strategy.rollingUpdate.maxUnavailable", "spec.strategy.rollingUpdate.maxSurge")

	d = validDeployment()
	d.Spec.Selector = nil
	wantFields(t, DeploymentKind.Validate(d), "spec.selector")
	d.Spec.Selector = &api.LabelSelector{}
	wantFields(t, DeploymentKind.Validate(d), "spec.selector")
	d = validDeployment()
	d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(api.FromInt(0))
	d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(api.FromString("0%"))
	wantFields(t, DeploymentKind.Validate(d), "spec.strategy.rollingUpdate.maxUnavailable")
	d = validDeployment()
	d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(api.FromString("200%"))
	if err := DeploymentKind.Validate(d); err != nil {
		t.Fatalf("maxSurge over 100%% must be allowed: %v", err)
	}

	old := validDeployment()
	upd := old.DeepCopy()
	upd.Spec.Selector.MatchLabels["tier"] = "x"
	upd.Spec.Template.Labels["tier"] = "x"
	wantFields(t, DeploymentKind.ValidateUpdate(upd, old), "spec.selector")

	s := &apps.StatefulSet{ObjectMeta: store.ObjectMeta{Name: "db", Namespace: "default"}, Spec: apps.StatefulSetSpec{
		Selector: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "In", Values: []string{"db"}}}},
		Template: api.PodTemplateSpec{ObjectMeta: store.ObjectMeta{Labels: map[string]string{"app": "db"}}, Spec: api.PodSpec{Containers: []api.Container{{Name: "db", Image: "pg"}}}},
	}}
	StatefulSetKind.Default(s)
	if err := StatefulSetKind.Validate(s); err != nil {
		t.Fatal(err)
	}
	s.Spec.PodManagementPolicy = "Random"
	s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(-2))
	wantFields(t, StatefulSetKind.Validate(s), "spec.podManagementPolicy", "spec.updateStrategy.rollingUpdate.partition")

	ds := &apps.DaemonSet{ObjectMeta: store.ObjectMeta{Name: "p", Namespace: "kube-system"}, Spec: apps.DaemonSetSpec{
		Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "p"}},
		Template: api.PodTemplateSpec{ObjectMeta: store.ObjectMeta{Labels: map[string]string{"app": "p"}}, Spec: api.PodSpec{Containers: []api.Container{{Name: "p", Image: "p"}}}},
	}}
	DaemonSetKind.Default(ds)
	if err := DaemonSetKind.Validate(ds); err != nil {
		t.Fatal(err)
	}
	rs := &apps.ReplicaSet{ObjectMeta: store.ObjectMeta{Name: "r", Namespace: "d"}, Spec: apps.ReplicaSetSpec{
		Selector: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}},
	}}
	ReplicaSetKind.Default(rs)
	wantFields(t, ReplicaSetKind.Validate(rs), "spec.selector.matchExpressions[0].operator", "spec.template.spec.containers")

	// A stored selector's keys and values are label keys and values, as
	// Kubernetes' ValidateLabelSelector requires (issue 12 case 5: "Bad
	// Key" was accepted and then could not be parsed). The empty value is a
	// valid value, so {tier In ["", web]} is fine.
	d = validDeployment()
	d.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web", "Bad Key": "x", "ok": "bad value!"},
		MatchExpressions: []api.LabelSelectorRequirement{
			{Key: "Bad Key", Operator: api.LabelSelectorOpDoesNotExist},
			{Key: "tier", Operator: api.LabelSelectorOpIn, Values: []string{"", "web", "bad value!"}},
			{Key: "x", Operator: api.LabelSelectorOpNotIn},
			{Key: "y", Operator: api.LabelSelectorOpExists, Values: []string{"v"}},
		}}
	wantFields(t, DeploymentKind.Validate(d), "spec.selector.matchLabels", "spec.selector.matchLabels[ok]",
		"spec.selector.matchExpressions[0].key", "spec.selector.matchExpressions[1].values[2]",
		"spec.selector.matchExpressions[2].values", "spec.selector.matchExpressions[3].values")
	d = validDeployment()
	d.Spec.Selector.MatchExpressions = []api.LabelSelectorRequirement{{Key: "tier", Operator: api.LabelSelectorOpIn, Values: []string{"", "web"}}}
	d.Spec.Template.Labels["tier"] = ""
	if err := DeploymentKind.Validate(d); err != nil {
		t.Fatalf("a selector with the empty value: %v", err)
	}
}

func TestServiceValidation(t *testing.T) {
	s := &api.Service{ObjectMeta: store.ObjectMeta{Name: "9web", Namespace: "default"}, Spec: api.ServiceSpec{
		Type:      "LoadBalancer",
		ClusterIP: "10.0.0.300",
		Ports: []api.ServicePort{
			{Port: 80, NodePort: 30080},
			{Name: "b", Port: 0, Protocol: "TCP", TargetPort: api.FromString("Not_Valid")},
			{Name: "b", Port: 0, Protocol: "TCP"},
		},
	}}
	ServiceKind.Default(s)
	wantFields(t, ServiceKind.Validate(s),
		"metadata.name", "spec.type", "spec.clusterIP",
		"spec.ports[0].name", "spec.ports[0].nodePort",
		"spec.ports[1].port", "spec.ports[1].targetPort",
		"spec.ports[2].name", "spec.ports[2].port", "spec.ports[2]")

	ok := &api.Service{ObjectMeta: store.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort,
		Ports: []api.ServicePort{{Port: 80, NodePort: 30080}}, Selector: map[string]string{"app": "web"}}}
	ServiceKind.Default(ok)
	if err := ServiceKind.Validate(ok); err != nil {
		t.Fatal(err)
	}
	ok.Spec.ClusterIP = "10.96.0.1"
	upd := ok.DeepCopy()
	upd.Spec.ClusterIP = "10.96.0.2"
	wantFields(t, ServiceKind.ValidateUpdate(upd, ok), "spec.clusterIP")
}

func TestOtherKindsValidation(t *testing.T) {
	n := &api.Node{ObjectMeta: store.ObjectMeta{Name: "n1", Namespace: "oops"}, Spec: api.NodeSpec{PodCIDR: "10.0.0.0/33",
		Taints: []api.Taint{{Key: "a", Effect: "NoSchedule"}, {Key: "a", Effect: "NoSchedule"}, {Key: "", Effect: "Never"}}},
		Status: api.NodeStatus{Capacity: api.ResourceList{"cpu": api.MustParse("-2")}}}
	wantFields(t, NodeKind.Validate(n), "metadata.namespace", "spec.podCIDR", "spec.taints[1]",
		"spec.taints[2].key", "spec.taints[2].effect", "status.capacity[cpu]")

	ns := &api.Namespace{ObjectMeta: store.ObjectMeta{Name: "a.b"}}
	wantFields(t, NamespaceKind.Validate(ns), "metadata.name")

	ep := &api.Endpoints{ObjectMeta: store.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []api.EndpointSubset{{
		Addresses: []api.EndpointAddress{{IP: "nope"}}, Ports: []api.EndpointPort{{Port: 80, Protocol: "TCP"}, {Name: "b", Port: 99999, Protocol: "TCP"}}}}}
	wantFields(t, EndpointsKind.Validate(ep), "subsets[0].addresses[0].ip", "subsets[0].ports[0].name", "subsets[0].ports[1].port")

	ev := &api.Event{ObjectMeta: store.ObjectMeta{Name: "e", Namespace: "d"}, InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "other"}, Type: "Odd", Count: -1}
	wantFields(t, EventKind.Validate(ev), "involvedObject.name", "involvedObject.namespace", "type", "count")

	l := &election.Lease{ObjectMeta: store.ObjectMeta{Name: "l", Namespace: "d"}, Spec: election.LeaseSpec{LeaseDurationSeconds: ptr(int32(0)), LeaseTransitions: ptr(int32(-1))}}
	wantFields(t, LeaseKind.Validate(l), "spec.leaseDurationSeconds", "spec.leaseTransitions")

	q := &api.ResourceQuota{ObjectMeta: store.ObjectMeta{Name: "q", Namespace: "d"}, Spec: api.ResourceQuotaSpec{Hard: api.ResourceList{
		"pods": api.MustParse("1.5"), "requests.cpu": api.MustParse("-1"), "gpus": api.MustParse("1")}}}
	wantFields(t, ResourceQuotaKind.Validate(q), "spec.hard[requests.cpu]", "spec.hard[gpus]", "spec.hard[pods]")
	okq := &api.ResourceQuota{ObjectMeta: store.ObjectMeta{Name: "q", Namespace: "d"}, Spec: api.ResourceQuotaSpec{Hard: api.ResourceList{
		"pods": api.MustParse("10"), "requests.cpu": api.MustParse("2"), "requests.memory": api.MustParse("4Gi"), "limits.cpu": api.MustParse("4"), "count/services": api.MustParse("3")}}}
	if err := ResourceQuotaKind.Validate(okq); err != nil {
		t.Fatal(err)
	}

	wantFields(t, ValidateBinding(&api.Binding{Target: api.ObjectReference{Kind: "Pod"}}), "target.name", "target.kind")
	if err := ValidateBinding(&api.Binding{Target: api.ObjectReference{Kind: "Node", Name: "node-1"}}); err != nil {
		t.Fatal(err)
	}
	wantFields(t, ValidateScale(&autoscaling.Scale{Spec: autoscaling.ScaleSpec{Replicas: -1}}), "spec.replicas")
}

func TestValidateObjectWrongType(t *testing.T) {
	if err := PodKind.ValidateObject(&api.Node{}); !errors.Is(err, ErrWrongType) || !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	if err := PodKind.DefaultObject(&api.Node{}); !errors.Is(err, ErrWrongType) {
		t.Fatalf("err = %v", err)
	}
}
