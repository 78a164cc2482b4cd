package runtimetest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/podfiles"
)

func testSandboxFiles(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("files")
	cfg.Hostname = "custom-host"
	cfg.DNS = &runtime.DNSConfig{Servers: []string{"10.96.0.10", "10.96.0.11"}, Searches: []string{"default.svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	sb := mustSandbox(ctx, t, rt, cfg)
	st, err := rt.SandboxStatus(ctx, sb)
	if err != nil || st.Hostname != "custom-host" {
		t.Fatalf("SandboxStatus = %+v, %v; want host name custom-host", st, err)
	}
	_, logs := runToExit(ctx, t, rt, sb, ctr("main", "hostname", "cat", "/etc/hostname", "cat", "/etc/resolv.conf", "cat", "/etc/hosts"))
	want := "custom-host\ncustom-host\n" +
		"search default.svc.cluster.local cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5\n" +
		string(podfiles.Hosts("custom-host", st.IP))
	if logs != want {
		t.Fatalf("files seen in the container:\n%s\nwant:\n%s", logs, want)
	}
	// Without a host name or DNS configuration: the pod's name and the
	// node's resolver configuration.
	plain := mustSandbox(ctx, t, rt, pod("plain-files"))
	_, logs = runToExit(ctx, t, rt, plain, ctr("main", "hostname", "cat", "/etc/resolv.conf"))
	if want := "plain-files\n" + string(podfiles.NodeResolvConf()); logs != want {
		t.Fatalf("default files: %q, want %q", logs, want)
	}
	bad := pod("bad-dns")
	bad.DNS = &runtime.DNSConfig{Servers: []string{"not-an-ip"}}
	_, err = rt.RunSandbox(ctx, bad)
	wantErr(t, "RunSandbox(bad DNS server)", err, runtime.ErrInvalid)
	if !strings.Contains(err.Error(), "dns.servers[0]") {
		t.Fatalf("error %q does not name dns.servers[0]", err)
	}
}

// freePort picks a port for a host port test, unlikely to be in use.
func freePort() uint16 {
	var b [2]byte
	rand.Read(b[:])
	return 20000 + binary.BigEndian.Uint16(b[:])%10000
}

func testHostPorts(t *testing.T, h Harness) {
	if h.DialHostPort == nil {
		t.Fatal("the harness has no DialHostPort")
	}
	ctx, rt := setup(t, h)
	port := freePort()
	cfg := pod("hostport")
	cfg.PortMappings = []runtime.PortMapping{{HostPort: port, ContainerPort: 8080}, {Protocol: runtime.UDP, HostPort: port, ContainerPort: 53}}
	sb := mustSandbox(ctx, t, rt, cfg)
	st, err := rt.SandboxStatus(ctx, sb)
	if err != nil || len(st.PortMappings) != 2 || st.PortMappings[0].HostPort != port {
		t.Fatalf("SandboxStatus port mappings = %+v, %v", st.PortMappings, err)
	}
	MustStart(ctx, t, rt, sb, ctr("server", "serve", "0.0.0.0:8080", "wait"))
	if got := dialUntil(ctx, t, func() (net.Conn, error) { return h.DialHostPort(ctx, rt, port) }); got != "pong" {
		t.Fatalf("read %q through host port %d, want pong", got, port)
	}
	// The same host port for another sandbox: refused, nothing made.
	clash := pod("clash")
	clash.PortMappings = []runtime.PortMapping{{HostPort: port, ContainerPort: 9090}}
	_, err = rt.RunSandbox(ctx, clash)
	wantErr(t, "RunSandbox(host port in use)", err, runtime.ErrAlreadyExists)
	if l, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{}); len(l) != 1 {
		t.Fatalf("sandboxes after a clash: %+v", l)
	}
	bad := pod("badport")
	bad.PortMappings = []runtime.PortMapping{{HostPort: 80}}
	_, err = rt.RunSandbox(ctx, bad)
	wantErr(t, "RunSandbox(no container port)", err, runtime.ErrInvalid)
	if err := rt.RemoveSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	if c, err := h.DialHostPort(dctx, rt, port); err == nil {
		c.Close()
		t.Fatalf("host port %d still answers after its sandbox was removed", port)
	}
	// Once free, the port can be mapped again.
	again := mustSandbox(ctx, t, rt, clash)
	if err := rt.RemoveSandbox(ctx, again); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing sandboxes with host ports")
}

func testSandboxStats(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	server := mustSandbox(ctx, t, rt, pod("stats-server"))
	client := mustSandbox(ctx, t, rt, pod("stats-client"))
	sst, _ := rt.SandboxStatus(ctx, server)
	MustStart(ctx, t, rt, server, ctr("server", "serve", "0.0.0.0:8080", "wait"))
	eth0 := func(id string) runtime.InterfaceStats {
		t.Helper()
		st, err := rt.SandboxStats(ctx, id)
		if err != nil {
			t.Fatalf("SandboxStats: %v", err)
		}
		for _, i := range st.Interfaces {
			if i.Name == "eth0" {
				if st.Timestamp.IsZero() {
					t.Fatal("SandboxStats without a timestamp")
				}
				return i
			}
		}
		t.Fatalf("SandboxStats(%s) = %+v, want eth0", id, st)
		return runtime.InterfaceStats{}
	}
	s0, c0 := eth0(server), eth0(client)
	_, logs := runToExit(ctx, t, rt, client, ctr("client", "get", sst.IP+":8080", "get", sst.IP+":8080"))
	if logs != "pong\npong\n" {
		t.Fatalf("client read %q", logs)
	}
	s1, c1 := eth0(server), eth0(client)
	if s1.TxBytes < s0.TxBytes+10 || c1.RxBytes < c0.RxBytes+10 {
		t.Fatalf("after two pongs: server %+v -> %+v, client %+v -> %+v", s0, s1, c0, c1)
	}
	hostCfg := pod("stats-host")
	hostCfg.HostNetwork = true
	host := mustSandbox(ctx, t, rt, hostCfg)
	if st, err := rt.SandboxStats(ctx, host); err != nil || len(st.Interfaces) != 0 {
		t.Fatalf("host-network SandboxStats = %+v, %v; want no interfaces", st, err)
	}
	_, err := rt.SandboxStats(ctx, "missing")
	wantErr(t, "SandboxStats(missing)", err, runtime.ErrNotFound)
}
