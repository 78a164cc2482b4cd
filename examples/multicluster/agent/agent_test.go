package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/multicluster/agent"
	"github.com/setpoint-dev/setpoint/store"
)

// TestStatus: the heartbeat counts ready nodes, sums their allocatable
// resources, and subtracts the requests of the pods bound to them (not
// those of finished pods, nor of pods on a node that is not ready).
func TestStatus(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	node := func(name string, ready api.ConditionStatus, cpu string) {
		n := &api.Node{ObjectMeta: store.ObjectMeta{Name: name}}
		n, err := cs.Nodes().Create(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		n.Status.Allocatable = api.ResourceList{api.ResourceCPU: api.MustParse(cpu), api.ResourceMemory: api.MustParse("8Gi")}
		n.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: ready}}
		if _, err := cs.Nodes().UpdateStatus(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	node("n1", api.ConditionTrue, "4")
	node("n2", api.ConditionTrue, "2")
	node("n3", api.ConditionFalse, "16")
	pod := func(name, node string, cpu string, phase api.PodPhase) {
		p := &api.Pod{ObjectMeta: store.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.PodSpec{NodeName: node,
			Containers: []api.Container{{Name: "c", Image: "x", Resources: api.ResourceRequirements{Requests: api.ResourceList{api.ResourceCPU: api.MustParse(cpu)}}}}}}
		p, err := cs.Pods().Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if phase != "" {
			p.Status.Phase = phase
			if _, err := cs.Pods().UpdateStatus(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	pod("a", "n1", "1500m", api.PodRunning)
	pod("b", "n2", "500m", "")
	pod("done", "n1", "2", api.PodSucceeded)
	pod("elsewhere", "n3", "8", api.PodRunning)
	a := newAgent(t, s)
	st := a.Status(ctx)
	if !st.Readyz || st.NodeCount != 3 || st.ReadyNodeCount != 2 || !strings.HasPrefix(st.KubernetesVersion, "v") {
		t.Errorf("status: %+v", st)
	}
	if got := st.Allocatable[api.ResourceCPU]; got.Cmp(api.MustParse("6")) != 0 {
		t.Errorf("allocatable cpu %s, want 6 (ready nodes only)", got.String())
	}
	if got := st.Available[api.ResourceCPU]; got.Cmp(api.MustParse("4")) != 0 {
		t.Errorf("available cpu %s, want 4 (6 less 1.5 and 0.5)", got.String())
	}
	if got := st.Available[api.ResourceMemory]; got.Cmp(api.MustParse("16Gi")) != 0 {
		t.Errorf("available memory %s, want 16Gi", got.String())
	}
}

func newAgent(t *testing.T, s *apiserver.Server) *agent.Agent {
	t.Helper()
	kc, err := s.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{ClusterID: "c1", HubURL: "https://127.0.0.1:1", HubCAPEM: s.PKI().CACert, HubToken: "t", ChildKubeconfig: kc})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestConfigNeedsACertificate: a child kubeconfig with a token only is
// refused with the reason (tunnel streams authenticate by certificate).
func TestConfigNeedsACertificate(t *testing.T) {
	s := controllertest.StartAPIServer(t)
	kc, err := apiserver.Kubeconfig(s.URL(), s.PKI().CACert, nil, nil, "some-token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = agent.New(agent.Config{ClusterID: "c1", HubURL: "https://hub", HubCAPEM: s.PKI().CACert, HubToken: "t", ChildKubeconfig: kc})
	if err == nil || !strings.Contains(err.Error(), "ChildKubeconfig: must carry a client certificate") {
		t.Errorf("token-only child kubeconfig: %v", err)
	}
}
