package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/proxy"
	"github.com/setpoint-dev/setpoint/store"
)

// proxy-conn: new TCP connections per second from a client pod to a
// server pod through the Service's ClusterIP (ours: examples/proxy in
// nftables mode, programming the node) vs straight to the pod's IP, the
// anchor. The benchmark makes three network namespaces, a node and two
// pods joined to it by veth pairs and routed through it, so both paths
// cross the node's netfilter hooks and differ only by the Service's DNAT;
// it removes them afterwards. Each connection is a connect, one byte
// echoed, and a close; proxyConnRounds rounds of proxyConnPerRound
// sequential connections per path, alternating, and each path's best
// round counts (the machine is shared: the best round is the one least
// disturbed). The Service's only endpoint is the server
// pod, so every connection reaches the same listener either way.
const (
	proxyConnRounds   = 5
	proxyConnPerRound = 1000
)

func init() { register("proxy-conn", benchProxyConn) }

func benchProxyConn(ctx context.Context) (_ []Result, err error) {
	node, err := newBenchNS("node")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, node.close()) }()
	var pods []*benchNS
	defer func() {
		for _, p := range pods {
			err = errors.Join(err, p.close())
		}
	}()
	for i, tag := range []string{"client", "server"} {
		p, err := newBenchNS(tag)
		if err != nil {
			return nil, err
		}
		pods = append(pods, p)
		veth := fmt.Sprintf("veth%d", i+1)
		for _, args := range [][]string{
			{"ip", "-n", node.name, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.name},
			{"ip", "-n", node.name, "addr", "add", fmt.Sprintf("10.244.%d.1/24", i+1), "dev", veth},
			{"ip", "-n", node.name, "link", "set", veth, "up"},
			{"ip", "-n", p.name, "addr", "add", fmt.Sprintf("10.244.%d.2/24", i+1), "dev", "eth0"},
			{"ip", "-n", p.name, "link", "set", "eth0", "up"},
			{"ip", "-n", p.name, "route", "add", "default", "via", fmt.Sprintf("10.244.%d.1", i+1)},
		} {
			if err := sh(args...); err != nil {
				return nil, err
			}
		}
	}
	if _, err := node.exec("sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		return nil, err
	}
	client, server := pods[0], pods[1]
	const podIP = "10.244.2.2"

	// The server: an echo of one byte per connection, in the server pod.
	var ln net.Listener
	if err := inNetNS(server.path(), func() error {
		var err error
		ln, err = net.Listen("tcp", podIP+":8080")
		return err
	}); err != nil {
		return nil, err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(b)
				}
			}()
		}
	}()

	_, cs, cleanup, err := freshAPIServer(ctx, "bench-proxyconn-", 0)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	svc, err := cs.Services().Create(ctx, &api.Service{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "echo"},
		Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 80, Protocol: api.ProtocolTCP, TargetPort: api.FromInt(8080)}}}})
	if err != nil {
		return nil, err
	}
	ready, name, proto, port, nodeName := true, "", api.ProtocolTCP, int32(8080), proxyNode
	if _, err := cs.EndpointSlices().Create(ctx, &discovery.EndpointSlice{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "echo-1",
		Labels: map[string]string{discovery.LabelServiceName: "echo"}}, AddressType: discovery.AddressTypeIPv4,
		Ports:     []discovery.EndpointPort{{Name: &name, Protocol: &proto, Port: &port}},
		Endpoints: []discovery.Endpoint{{Addresses: []string{podIP}, Conditions: discovery.EndpointConditions{Ready: &ready}, NodeName: &nodeName}}}); err != nil {
		return nil, err
	}
	p, err := startProxy(ctx, proxy.Config{Client: cs, NodeName: proxyNode, MinSyncPeriod: -1, NetNS: node.path(),
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()

	viaService := net.JoinHostPort(svc.Spec.ClusterIP, "80")
	direct := net.JoinHostPort(podIP, "8080")
	// Wait (a minute at most) for the proxy to program the Service.
	if err := inNetNS(client.path(), func() error {
		deadline := time.Now().Add(time.Minute)
		for {
			if err := echoOnce(viaService); err == nil {
				return nil
			} else if time.Now().After(deadline) {
				return fmt.Errorf("the Service is not reachable after a minute: %w", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}); err != nil {
		return nil, err
	}
	var ours, anchor float64
	for range proxyConnRounds {
		for _, c := range []struct {
			addr string
			rate *float64
		}{{direct, &anchor}, {viaService, &ours}} {
			if err := inNetNS(client.path(), func() error {
				start := time.Now()
				for range proxyConnPerRound {
					if err := echoOnce(c.addr); err != nil {
						return err
					}
				}
				*c.rate = max(*c.rate, proxyConnPerRound/time.Since(start).Seconds())
				return nil
			}); err != nil {
				return nil, err
			}
		}
	}
	return []Result{{Name: "proxy-conn", Ours: ours, Anchor: anchor, Unit: "conns/s", HigherIsBetter: true}}, nil
}

// echoOnce opens a TCP connection to addr, has one byte echoed and closes
// it, in the calling thread's network namespace.
func echoOnce(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte{1}); err != nil {
		return err
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	return nil
}
