package kubelet

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

func TestConfigValidate(t *testing.T) {
	rt := fakeRuntime(t)
	c := startCluster(t)
	bad := map[string]Config{
		"no client":                 {Runtime: rt, NodeName: "n"},
		"no runtime":                {Client: c.cs, NodeName: "n"},
		"no node":                   {Client: c.cs, Runtime: rt},
		"bad node":                  {Client: c.cs, Runtime: rt, NodeName: "Node_1"},
		"bad ip":                    {Client: c.cs, Runtime: rt, NodeName: "n", NodeIP: "10.0.0"},
		"bad cidr":                  {Client: c.cs, Runtime: rt, NodeName: "n", PodCIDR: "10.0.0.0/99"},
		"negative sync":             {Client: c.cs, Runtime: rt, NodeName: "n", SyncPeriod: -1},
		"negative cap":              {Client: c.cs, Runtime: rt, NodeName: "n", Capacity: api.ResourceList{api.ResourceCPU: api.MustParse("-1")}},
		"serving without client CA": {Client: c.cs, Runtime: rt, NodeName: "n", Serving: ServingConfig{Listen: "127.0.0.1:0"}},
	}
	for name, cfg := range bad {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	good := Config{Client: c.cs, Runtime: rt, NodeName: "node-1"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestPodLifecycle: a pod bound to the node runs (init container, then two
// app containers that share localhost, env with $(VAR) expansion and the
// downward API; ConfigMaps are not served by the apiserver yet); its status says what the runtime holds; a graceful delete
// gives the SIGTERM trap its time and the pod goes, leaving nothing.
func TestPodLifecycle(t *testing.T) {
	c := startCluster(t)
	rt := fakeRuntime(t)
	ctx := context.Background()
	_, stop := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", NodeIP: "10.0.0.1", SyncPeriod: 50 * time.Millisecond})

	node := waitNode(t, c, "node-1")
	if cond := nodeCondition(node, api.NodeReady); cond.Status != api.ConditionTrue || cond.Reason != "KubeletReady" {
		t.Errorf("node Ready = %+v", cond)
	}
	if len(node.Status.Addresses) == 0 || node.Status.Addresses[0].Address != "10.0.0.1" {
		t.Errorf("node addresses = %+v", node.Status.Addresses)
	}
	if q := node.Status.Capacity[api.ResourcePods]; q.Value() != DefaultMaxPods {
		t.Errorf("node pods capacity = %v", q.String())
	}

	pod := &api.Pod{}
	pod.Namespace, pod.Name = "default", "web"
	grace := int64(20)
	pod.Spec.TerminationGracePeriodSeconds = &grace
	pod.Spec.NodeName = "node-1"
	pod.Spec.InitContainers = []api.Container{testContainer("init", "print init-done")}
	server := testContainer("server", "env GREETING", "env POD_NAME", "env POD_IP", "on-term 2s", "serve 127.0.0.1:7000", "wait")
	server.Env = []api.EnvVar{
		{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "GREETING", Value: "hello $(POD_NAME)"},
		{Name: "POD_IP", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}
	pod.Spec.Containers = []api.Container{server, testContainer("client", "get 127.0.0.1:7000", "wait")}
	created, err := c.cs.Pods().Create(ctx, pod)
	if err != nil {
		t.Fatal(err)
	}
	running := waitPod(t, c.cs, "default", "web", "Running and Ready", func(p *api.Pod) bool {
		return p != nil && p.Status.Phase == api.PodRunning && condition(p, api.PodReady).Status == api.ConditionTrue
	})

	// Every status field against the runtime.
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil || len(sbs) != 1 {
		t.Fatalf("sandboxes: %+v %v", sbs, err)
	}
	sb := sbs[0]
	st := running.Status
	if sb.UID != string(created.UID) || st.PodIP != sb.IP || sb.IP == "" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != sb.IP {
		t.Errorf("podIP %q %+v, sandbox %+v", st.PodIP, st.PodIPs, sb)
	}
	if st.HostIP != "10.0.0.1" || st.StartTime == nil || st.QOSClass != api.PodQOSBestEffort {
		t.Errorf("hostIP %q startTime %v qos %q", st.HostIP, st.StartTime, st.QOSClass)
	}
	for _, typ := range []api.PodConditionType{api.PodScheduled, api.PodReadyToStartContainers, api.PodInitialized, api.ContainersReady, api.PodReady} {
		if cond := condition(running, typ); cond.Status != api.ConditionTrue {
			t.Errorf("condition %s = %+v", typ, cond)
		}
	}
	cs, err := rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sb.ID})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]runtime.ContainerStatus{}
	for _, x := range cs {
		byName[x.Name] = x
	}
	if len(st.InitContainerStatuses) != 1 {
		t.Fatalf("initContainerStatuses = %+v", st.InitContainerStatuses)
	}
	ini := st.InitContainerStatuses[0]
	if term := ini.State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" || ini.ContainerID != "containerd://"+byName["init"].ID {
		t.Errorf("init status = %+v", ini)
	}
	if len(st.ContainerStatuses) != 2 {
		t.Fatalf("containerStatuses = %+v", st.ContainerStatuses)
	}
	for _, s := range st.ContainerStatuses {
		rc := byName[s.Name]
		if rc.State != runtime.ContainerRunning || s.State.Running == nil || !s.Ready || s.Started == nil || !*s.Started ||
			s.RestartCount != 0 || s.ContainerID != "containerd://"+rc.ID || s.ImageID != rc.ImageID || s.ImageID == "" ||
			s.Image != runtimetest.TestImageName || !s.State.Running.StartedAt.Equal(rc.StartedAt.Truncate(time.Second)) {
			t.Errorf("status of %s = %+v, runtime %+v", s.Name, s, rc)
		}
	}
	logs := runtimetest.ReadLogs(ctx, t, rt, byName["server"].ID, runtime.LogOptions{})
	for _, want := range []string{"hello web", sb.IP} {
		if !strings.Contains(logs, want) {
			t.Errorf("server log %q lacks %q", logs, want)
		}
	}
	waitLog(t, rt, byName["client"].ID, "pong")

	// Graceful delete: marked, then the kubelet stops the containers
	// (SIGTERM: the trap prints "terminating") and deletes the pod.
	final := watchFinalStatus(t, c, "default", "web", func() {
		var marked api.Pod
		if err := c.cs.Pods().Call(ctx, http.MethodDelete, "default", "web", "", nil, nil, &marked); err != nil {
			t.Fatal(err)
		}
		if marked.DeletionTimestamp == nil || marked.DeletionGracePeriodSeconds == nil || *marked.DeletionGracePeriodSeconds != 20 {
			t.Fatalf("delete answered %+v", marked.ObjectMeta)
		}
	})
	// The server's SIGTERM trap got its time and exited 0; the client
	// was terminated by SIGTERM (143). Not both 0: Failed.
	exits := map[string]int32{}
	for _, s := range final.ContainerStatuses {
		if s.State.Terminated != nil {
			exits[s.Name] = s.State.Terminated.ExitCode
		}
	}
	if len(exits) != 2 || exits["server"] != 0 || exits["client"] != 143 || final.Phase != api.PodFailed {
		t.Errorf("final status: phase %s, exit codes %v; want Failed, server 0 (trap), client 143", final.Phase, exits)
	}
	if left := rt.Leftovers(); len(left) != 0 {
		t.Errorf("runtime leftovers after delete: %v", left)
	}
	stop()
	evs, err := c.cs.Events().List(ctx, "default", storeListAll())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range evs.Items {
		reasons[e.Reason]++
	}
	for _, want := range []string{"Pulled", "Created", "Started", "Killing"} {
		if reasons[want] == 0 {
			t.Errorf("no %s event; events: %v", want, reasons)
		}
	}
}
