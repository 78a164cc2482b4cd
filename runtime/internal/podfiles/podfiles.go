// Package podfiles makes the contents of the files a runtime gives a pod's
// containers: /etc/hosts, /etc/hostname and /etc/resolv.conf. The
// containerd and fake runtimes share it, so that containers see the same
// files in both.
package podfiles

import (
	"os"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Hosts returns the default /etc/hosts of a sandbox: localhost and the
// sandbox's host name at its IP.
func Hosts(hostname, ip string) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if ip != "" {
		b.WriteString(ip + "\t" + hostname + "\n")
	}
	return []byte(b.String())
}

// Hostname returns /etc/hostname for hostname.
func Hostname(hostname string) []byte { return []byte(hostname + "\n") }

// ResolvConf returns the /etc/resolv.conf for d.
func ResolvConf(d runtime.DNSConfig) []byte {
	var b strings.Builder
	if len(d.Searches) > 0 {
		b.WriteString("search " + strings.Join(d.Searches, " ") + "\n")
	}
	for _, s := range d.Servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(d.Options) > 0 {
		b.WriteString("options " + strings.Join(d.Options, " ") + "\n")
	}
	return []byte(b.String())
}

// NodeResolvConfPath is the node's resolver configuration, which sandboxes
// without a DNSConfig share.
const NodeResolvConfPath = "/etc/resolv.conf"

var (
	nodeOnce sync.Once
	nodeConf []byte
)

// NodeResolvConf returns the node's /etc/resolv.conf as read once (empty
// when it cannot be read).
func NodeResolvConf() []byte {
	nodeOnce.Do(func() { nodeConf, _ = os.ReadFile(NodeResolvConfPath) })
	return nodeConf
}
