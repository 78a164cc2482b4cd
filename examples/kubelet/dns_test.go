package kubelet

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestServiceEnvAndDNS: a pod sees KUBERNETES_SERVICE_HOST/PORT and the
// Docker link variables of its namespace's services, not those of other
// namespaces (and none with enableServiceLinks false, except the
// kubernetes service's); its /etc/resolv.conf follows dnsPolicy
// ClusterFirst with dnsConfig merged in, and its /etc/hosts holds its
// fully qualified name and hostAliases.
func TestServiceEnvAndDNS(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	rt := fakeRuntime(t)
	k, _ := runKubelet(t, Config{Client: c.cs, Runtime: rt, NodeName: "node-1", SyncPeriod: 50 * time.Millisecond,
		ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "example.local"})
	ctx := context.Background()
	kube, err := c.cs.Services().Get(ctx, "default", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	svc := &api.Service{Spec: api.ServiceSpec{Ports: []api.ServicePort{{Name: "http-alt", Port: 8080, Protocol: api.ProtocolTCP}}}}
	svc.Namespace, svc.Name = "default", "web-front"
	if svc, err = c.cs.Services().Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	other := &api.Service{Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 80}}}}
	other.Namespace, other.Name = "kube-system", "elsewhere"
	if _, err := c.cs.Services().Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	// The kubelet reads Services from a watch: as in Kubernetes, a pod
	// sees the services its kubelet had seen when its container started.
	for _, key := range [][2]string{{"default", "web-front"}, {"kube-system", "elsewhere"}} {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, ok := k.svcs.Get(key[0], key[1]); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the kubelet never saw service %s/%s", key[0], key[1])
			}
		}
	}

	vars := []string{"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "WEB_FRONT_SERVICE_HOST", "WEB_FRONT_SERVICE_PORT",
		"WEB_FRONT_SERVICE_PORT_HTTP_ALT", "WEB_FRONT_PORT", "WEB_FRONT_PORT_8080_TCP_ADDR", "ELSEWHERE_SERVICE_HOST"}
	script := []string{}
	for _, v := range vars {
		script = append(script, "print "+v+"=", "env "+v)
	}
	script = append(script, "print ---", "cat /etc/resolv.conf", "print ---", "cat /etc/hosts", "print done", "wait")
	pod := newPod("dns", "node-1", testContainer("main", script...))
	pod.Spec.Hostname, pod.Spec.Subdomain = "db-0", "db"
	pod.Spec.HostAliases = []api.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}}
	ndots := "2"
	pod.Spec.DNSConfig = &api.PodDNSConfig{Nameservers: []string{"10.96.0.11"}, Searches: []string{"extra.local"},
		Options: []api.PodDNSConfigOption{{Name: "ndots", Value: &ndots}, {Name: "edns0"}}}
	nolinks := false
	pod2 := newPod("nolinks", "node-1", testContainer("main", "print WEB=", "env WEB_FRONT_SERVICE_HOST", "print KUBE=",
		"env KUBERNETES_SERVICE_HOST", "print ---", "cat /etc/resolv.conf", "print done", "wait"))
	pod2.Spec.EnableServiceLinks = &nolinks
	pod2.Spec.DNSPolicy = api.DNSNone
	pod2.Spec.DNSConfig = &api.PodDNSConfig{Nameservers: []string{"1.1.1.1"}}
	for _, p := range []*api.Pod{pod, pod2} {
		if _, err := c.cs.Pods().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	p := waitPod(t, c.cs, "default", "dns", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	id := containerID(t, k, "default", "dns", "main")
	waitLog(t, rt, id, "done")
	logs := runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
	kubePort := kube.Spec.Ports[0].Port
	want := []string{
		"KUBERNETES_SERVICE_HOST=\n" + kube.Spec.ClusterIP + "\n",
		"KUBERNETES_SERVICE_PORT=\n" + strconv.Itoa(int(kubePort)) + "\n",
		"WEB_FRONT_SERVICE_HOST=\n" + svc.Spec.ClusterIP + "\n",
		"WEB_FRONT_SERVICE_PORT=\n8080\n",
		"WEB_FRONT_SERVICE_PORT_HTTP_ALT=\n8080\n",
		"WEB_FRONT_PORT=\ntcp://" + svc.Spec.ClusterIP + ":8080\n",
		"WEB_FRONT_PORT_8080_TCP_ADDR=\n" + svc.Spec.ClusterIP + "\n",
		"ELSEWHERE_SERVICE_HOST=\n\n",
		"search default.svc.example.local svc.example.local example.local ",
		"nameserver 10.96.0.10\nnameserver 10.96.0.11\n",
		"options ndots:2 edns0\n",
		"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n",
		p.Status.PodIP + "\tdb-0.db.default.svc.example.local\tdb-0\n",
		"# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n",
	}
	for _, w := range want {
		if !strings.Contains(logs, w) {
			t.Errorf("container output lacks %q:\n%s", w, logs)
		}
	}
	if !strings.Contains(logs, "extra.local\n") {
		t.Errorf("the dnsConfig search domain is missing:\n%s", logs)
	}

	waitPod(t, c.cs, "default", "nolinks", "Running", func(p *api.Pod) bool { return p != nil && p.Status.Phase == api.PodRunning })
	id = containerID(t, k, "default", "nolinks", "main")
	waitLog(t, rt, id, "done")
	logs = runtimetest.ReadLogs(ctx, t, rt, id, runtime.LogOptions{})
	if want := "WEB=\n\nKUBE=\n" + kube.Spec.ClusterIP + "\n---\nnameserver 1.1.1.1\ndone\n"; logs != want {
		t.Errorf("enableServiceLinks false, dnsPolicy None: output %q, want %q", logs, want)
	}
}
