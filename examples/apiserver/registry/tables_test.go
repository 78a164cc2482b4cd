package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

var tnow = time.Date(2025, 1, 2, 4, 0, 0, 0, time.UTC)

// row renders one object and returns header->cell.
func row[T store.Object](t *testing.T, k *Kind[T], obj T) map[string]string {
	t.Helper()
	tab, err := k.Table([]T{obj}, table.Options{Now: tnow})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != 1 || len(tab.Rows[0].Cells) != len(tab.ColumnDefinitions) {
		t.Fatalf("bad table shape: %+v", tab)
	}
	m := map[string]string{}
	for i, c := range tab.ColumnDefinitions {
		m[c.Name] = fmt.Sprint(tab.Rows[0].Cells[i])
	}
	return m
}

func expectCells(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("column %q = %q, want %q (row %v)", k, got[k], v, got)
		}
	}
}

func TestPodTable(t *testing.T) {
	p := loadFixture[api.Pod](t, "pod.json")
	expectCells(t, row(t, PodKind, p), map[string]string{
		"Name": "web-7d4b9c-x2k9p", "Ready": "1/2", "Status": "CrashLoopBackOff",
		"Restarts": "4 (55m ago)", "Age": "55m", "IP": "10.244.1.7", "Node": "node-1",
	})
	q := &api.Pod{ObjectMeta: store.ObjectMeta{Name: "q", CreationTimestamp: store.NewTime(tnow.Add(-30 * time.Second))},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "a"}}}, Status: api.PodStatus{Phase: api.PodPending}}
	expectCells(t, row(t, PodKind, q), map[string]string{"Ready": "0/1", "Status": "Pending", "Restarts": "0", "Age": "30s", "IP": "<none>", "Node": "<none>"})
	q.Status.Phase = api.PodSucceeded
	q.Status.ContainerStatuses = []api.ContainerStatus{{Name: "a", State: api.ContainerState{Terminated: &api.ContainerStateTerminated{Reason: "Completed"}}}}
	expectCells(t, row(t, PodKind, q), map[string]string{"Status": "Completed"})
	tab, _ := PodKind.Table([]*api.Pod{q}, table.Options{Now: tnow})
	if len(tab.Rows[0].Conditions) != 1 || tab.Rows[0].Conditions[0].Type != "Completed" {
		t.Error("completed pod lacks the Completed row condition")
	}
	q.Status.ContainerStatuses[0].State = api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 2}}
	expectCells(t, row(t, PodKind, q), map[string]string{"Status": "ExitCode:2"})
	q.DeletionTimestamp = &store.Time{Time: tnow}
	expectCells(t, row(t, PodKind, q), map[string]string{"Status": "Terminating"})
	// wide columns have priority 1
	for _, c := range PodKind.TableColumns() {
		wide := c.Name == "IP" || c.Name == "Node" || c.Name == "Nominated Node" || c.Name == "Readiness Gates"
		if wide != (c.Priority == 1) {
			t.Errorf("column %s priority %d", c.Name, c.Priority)
		}
	}
}

func TestNodeTable(t *testing.T) {
	n := loadFixture[api.Node](t, "node.json")
	expectCells(t, row(t, NodeKind, n), map[string]string{
		"Name": "node-1", "Status": "Ready,SchedulingDisabled", "Roles": "control-plane", "Age": "28h",
		"Version": "v1.32.0-setpoint", "Internal-IP": "192.168.1.10", "External-IP": "<none>",
		"OS-Image": "Debian GNU/Linux 12 (bookworm)", "Kernel-Version": "6.1.0", "Container-Runtime": "containerd://1.6.20",
	})
	expectCells(t, row(t, NodeKind, &api.Node{}), map[string]string{"Status": "Unknown", "Roles": "<none>", "Age": "<unknown>"})
}

func TestWorkloadTables(t *testing.T) {
	d := loadFixture[apps.Deployment](t, "deployment.json")
	expectCells(t, row(t, DeploymentKind, d), map[string]string{
		"Name": "web", "Ready": "2/3", "Up-to-date": "3", "Available": "2", "Age": "28h",
		"Containers": "web", "Images": "nginx:1.27", "Selector": "app=web,tier in (edge,front)",
	})
	rs := loadFixture[apps.ReplicaSet](t, "replicaset.json")
	expectCells(t, row(t, ReplicaSetKind, rs), map[string]string{"Desired": "2", "Current": "2", "Ready": "1"})
	ss := loadFixture[apps.StatefulSet](t, "statefulset.json")
	expectCells(t, row(t, StatefulSetKind, ss), map[string]string{"Ready": "3/3", "Images": "postgres:16"})
	ds := loadFixture[apps.DaemonSet](t, "daemonset.json")
	expectCells(t, row(t, DaemonSetKind, ds), map[string]string{"Desired": "2", "Current": "2", "Ready": "2", "Up-to-date": "2",
		"Available": "2", "Node Selector": "kubernetes.io/os=linux", "Selector": "app"})
	// integer columns hold int64 cells
	tab, _ := DeploymentKind.Table([]*apps.Deployment{d}, table.Options{Now: tnow})
	if _, ok := tab.Rows[0].Cells[2].(int64); !ok {
		t.Errorf("Up-to-date cell is %T, want int64", tab.Rows[0].Cells[2])
	}
}

func TestServiceEndpointsEventTables(t *testing.T) {
	s := loadFixture[api.Service](t, "service.json")
	expectCells(t, row(t, ServiceKind, s), map[string]string{
		"Name": "web", "Type": "NodePort", "Cluster-IP": "10.96.0.10", "External-IP": "203.0.113.5",
		"Port(s)": "80:30080/TCP,53/UDP", "Selector": "app=web",
	})
	ep := loadFixture[api.Endpoints](t, "endpoints.json")
	expectCells(t, row(t, EndpointsKind, ep), map[string]string{"Endpoints": "10.244.1.7:8080,10.244.1.7:53"})
	many := &api.Endpoints{Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "1.1.1.1"}, {IP: "2.2.2.2"}, {IP: "3.3.3.3"}, {IP: "4.4.4.4"}, {IP: "5.5.5.5"}},
		Ports: []api.EndpointPort{{Port: 80}}}}}
	expectCells(t, row(t, EndpointsKind, many), map[string]string{"Endpoints": "1.1.1.1:80,2.2.2.2:80,3.3.3.3:80 + 2 more..."})
	expectCells(t, row(t, EndpointsKind, &api.Endpoints{}), map[string]string{"Endpoints": "<none>"})
	ev := loadFixture[api.Event](t, "event.json")
	expectCells(t, row(t, EventKind, ev), map[string]string{"Last Seen": "50m", "Type": "Normal", "Reason": "Pulled",
		"Object": "pod/web-0", "Message": `Container image "nginx:1.27" already present on machine`, "Count": "3", "Source": "kubelet, node-1"})
}

func TestOtherTables(t *testing.T) {
	l := loadFixture[election.Lease](t, "lease.json")
	expectCells(t, row(t, LeaseKind, l), map[string]string{"Name": "controller-manager", "Holder": "cm-1_4f2c"})
	q := loadFixture[api.ResourceQuota](t, "resourcequota.json")
	expectCells(t, row(t, ResourceQuotaKind, q), map[string]string{
		"Request": "pods: 3/10, requests.cpu: 300m/2, requests.memory: 384Mi/4Gi",
		"Limit":   "limits.cpu: 1500m/4, limits.memory: 768Mi/8Gi",
	})
	ns := loadFixture[api.Namespace](t, "namespace.json")
	expectCells(t, row(t, NamespaceKind, ns), map[string]string{"Name": "team-a", "Status": "Terminating", "Age": "28h"})
}
