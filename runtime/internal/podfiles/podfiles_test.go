package podfiles

import (
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
)

func TestFiles(t *testing.T) {
	if got := string(Hosts("web", "10.1.2.3")); got != "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tweb\n" {
		t.Fatalf("Hosts = %q", got)
	}
	if got := string(Hosts("web", "")); got != "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" {
		t.Fatalf("Hosts without IP = %q", got)
	}
	got := string(ResolvConf(runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}}))
	if got != "search ns.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n" {
		t.Fatalf("ResolvConf = %q", got)
	}
	if got := string(Hostname("h")); got != "h\n" {
		t.Fatalf("Hostname = %q", got)
	}
}
