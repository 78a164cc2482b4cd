package proxy_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/setpoint-dev/setpoint/examples/proxy"
)

// testNet is a node network namespace with "pods" around it: each pod is a
// network namespace joined to the node by a veth pair and routed through
// it (as point-to-point CNI plugins do), so all pod traffic crosses the
// node's netfilter hooks. Everything is removed when the test ends.
type testNet struct {
	t      *testing.T
	prefix string
	node   string
	pods   map[string]string // pod name -> netns name
	ips    map[string]string // pod name -> IP
}

const nodeIP = "192.168.77.10"

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func addNS(t *testing.T, name string) {
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { run(t, "ip", "netns", "del", name) })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
}

func newTestNet(t *testing.T) *testNet {
	b := make([]byte, 3)
	rand.Read(b)
	n := &testNet{t: t, prefix: "spx" + hex.EncodeToString(b), pods: map[string]string{}, ips: map[string]string{}}
	n.node = n.prefix + "-node"
	addNS(t, n.node)
	// the node's uplink: a veth pair inside the namespace (no dummy module here)
	run(t, "ip", "-n", n.node, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer")
	run(t, "ip", "-n", n.node, "link", "set", "eth0peer", "up")
	run(t, "ip", "-n", n.node, "addr", "add", nodeIP+"/24", "dev", "eth0")
	run(t, "ip", "-n", n.node, "link", "set", "eth0", "up")
	run(t, "ip", "-n", n.node, "route", "add", "default", "dev", "eth0")
	run(t, "ip", "netns", "exec", n.node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return n
}

// addPod makes pod number i (10.244.i.2, its node side 10.244.i.1).
func (n *testNet) addPod(name string, i int) string {
	ns := n.prefix + "-" + name
	addNS(n.t, ns)
	veth := fmt.Sprintf("veth%d", i)
	ip := fmt.Sprintf("10.244.%d.2", i)
	run(n.t, "ip", "-n", n.node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
	run(n.t, "ip", "-n", n.node, "addr", "add", fmt.Sprintf("10.244.%d.1/24", i), "dev", veth)
	run(n.t, "ip", "-n", n.node, "link", "set", veth, "up")
	run(n.t, "ip", "-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
	run(n.t, "ip", "-n", ns, "link", "set", "eth0", "up")
	run(n.t, "ip", "-n", ns, "route", "add", "default", "via", fmt.Sprintf("10.244.%d.1", i))
	n.pods[name], n.ips[name] = ns, ip
	return ip
}

// addV6 gives pod number i an IPv6 address too (fd00:244:i::2, its node
// side fd00:244:i::1); the first call also readies the node for IPv6.
func (n *testNet) addV6(name string, i int) string {
	ns, veth := n.pods[name], fmt.Sprintf("veth%d", i)
	ip := fmt.Sprintf("fd00:244:%d::2", i)
	if i == 1 { // the node's uplink: as for IPv4, a default route through it
		run(n.t, "ip", "netns", "exec", n.node, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
		run(n.t, "ip", "-n", n.node, "addr", "add", "fd00:77::10/64", "dev", "eth0", "nodad")
		run(n.t, "ip", "-n", n.node, "-6", "route", "add", "default", "dev", "eth0")
	}
	run(n.t, "ip", "-n", n.node, "addr", "add", fmt.Sprintf("fd00:244:%d::1/64", i), "dev", veth, "nodad")
	run(n.t, "ip", "-n", ns, "addr", "add", ip+"/64", "dev", "eth0", "nodad")
	run(n.t, "ip", "-n", ns, "-6", "route", "add", "default", "via", fmt.Sprintf("fd00:244:%d::1", i))
	return ip
}

// inNS runs fn on a thread inside the named namespace. Sockets made there
// stay in that namespace after fn returns.
func inNS(t testing.TB, name string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(name)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	fn()
	if err := netns.Set(orig); err != nil {
		t.Fatalf("leave namespace %s: %v", name, err) // the thread stays locked and dies
	}
	runtime.UnlockOSThread()
}

// serve starts a TCP server in the pod on port: it writes the pod's name
// and a newline, then echoes what it reads.
func (n *testNet) serve(pod string, port int) {
	var l net.Listener
	inNS(n.t, n.pods[pod], func() {
		var err error
		if l, err = net.Listen("tcp", fmt.Sprintf(":%d", port)); err != nil { // both families
			n.t.Fatal(err)
		}
	})
	var wg sync.WaitGroup
	n.t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fmt.Fprintf(c, "%s\n", pod)
				buf := make([]byte, 512)
				for {
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:k]); err != nil {
						return
					}
				}
			}()
		}
	}()
}

// serveUDP starts a UDP server in the pod on port that answers every
// datagram with the pod's name.
func (n *testNet) serveUDP(pod string, port int) {
	var pc net.PacketConn
	inNS(n.t, n.pods[pod], func() {
		var err error
		if pc, err = net.ListenPacket("udp4", fmt.Sprintf(":%d", port)); err != nil {
			n.t.Fatal(err)
		}
	})
	done := make(chan struct{})
	n.t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(pod), from)
		}
	}()
}

// udpAsk sends one datagram on c and returns the answer.
func udpAsk(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("who")); err != nil {
		return "", err
	}
	buf := make([]byte, 512)
	k, err := c.Read(buf)
	return string(buf[:k]), err
}

// udpFlows lists the node's UDP conntrack entries to dst, as "dst -> the
// address that answered".
func (n *testNet) udpFlows(dst string) []string {
	var flows []*netlink.ConntrackFlow
	var err error
	inNS(n.t, n.node, func() { flows, err = netlink.ConntrackTableList(netlink.ConntrackTable, unix.AF_INET) })
	if err != nil {
		n.t.Fatalf("conntrack list: %v", err)
	}
	var out []string
	for _, f := range flows {
		if f.Forward.Protocol == unix.IPPROTO_UDP && f.Forward.DstIP.String() == dst {
			out = append(out, fmt.Sprintf("%s -> %s:%d", dst, f.Reverse.SrcIP, f.Reverse.SrcPort))
		}
	}
	return out
}

// dial connects from the namespace ns to addr.
func dial(t testing.TB, ns, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	inNS(t, ns, func() {
		c, err = net.DialTimeout("tcp", addr, 5*time.Second)
	})
	return c, err
}

// ask connects from ns to addr and returns the name of the pod that answered.
func ask(t testing.TB, ns, addr string) (string, error) {
	c, err := dial(t, ns, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// hits asks k times and counts the answers by pod.
func hits(t testing.TB, ns, addr string, k int) (map[string]int, error) {
	got := map[string]int{}
	for range k {
		name, err := ask(t, ns, addr)
		if err != nil {
			return got, err
		}
		got[name]++
	}
	return got, nil
}

// rulesDump lists the proxy's rules in the node namespace: its nftables
// table ("" if absent), or the iptables-save lines that name its chains.
func (n *testNet) rulesDump(mode proxy.Mode, table string) string {
	if mode == proxy.ModeIPTables {
		out, err := exec.Command("ip", "netns", "exec", n.node, "iptables-save").CombinedOutput()
		if err != nil {
			n.t.Fatalf("iptables-save: %v: %s", err, out)
		}
		var ours []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, proxy.IPTPrefix(table)+"-") {
				ours = append(ours, l)
			}
		}
		return strings.Join(ours, "\n")
	}
	out, err := exec.Command("ip", "netns", "exec", n.node, "nft", "-s", "list", "table", "ip", table).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// leftovers returns what the proxy left in the node namespace: any
// nftables table in nftables mode (iptables-nft's own tables hold only
// built-in chains), any chain or jump of ours in iptables mode.
func (n *testNet) leftovers(mode proxy.Mode, table string) string {
	if mode == proxy.ModeIPTables {
		return n.rulesDump(mode, table)
	}
	out, err := exec.Command("ip", "netns", "exec", n.node, "nft", "list", "tables").CombinedOutput()
	if err != nil {
		n.t.Fatalf("nft list tables: %v: %s", err, out)
	}
	return string(out)
}

var _ = context.Background

// echo reads the greeting want (if set), then sends msg (if set) and
// expects it back.
func echo(t testing.TB, c net.Conn, want, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if want != "" {
		if got, err := r.ReadString('\n'); err != nil || got != want {
			t.Fatalf("greeting: %q, %v (want %q)", got, err, want)
		}
	}
	if msg != "" {
		if _, err := fmt.Fprintf(c, "%s\n", msg); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != msg+"\n" {
			t.Fatalf("echo: %q, %v", got, err)
		}
	}
}
