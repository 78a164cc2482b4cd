package dns

import (
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/client"
)

// TestValidate: each invalid field is refused with an error naming it, and
// New builds nothing.
func TestValidate(t *testing.T) {
	cs := &client.Clientset{}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "Client"},
		{Config{Client: cs, TTL: -time.Second}, "TTL"},
		{Config{Client: cs, TTL: 2 * time.Hour}, "TTL"},
		{Config{Client: cs, TTL: 1500 * time.Millisecond}, "TTL"},
		{Config{Client: cs, UDPSize: 100}, "UDPSize"},
		{Config{Client: cs, UDPSize: 70000}, "UDPSize"},
		{Config{Client: cs, Domain: "cluster.local."}, "Domain"},
		{Config{Client: cs, Domain: "bad..name"}, "Domain"},
		{Config{Client: cs, Listen: "nope"}, "Listen"},
		{Config{Client: cs, Upstreams: []string{"8.8.8.8"}}, "Upstreams[0]"},
		{Config{Client: cs, Upstreams: []string{"1.1.1.1:53", "x:0"}}, "Upstreams[1]"},
		{Config{Client: cs, UpstreamTimeout: -1}, "UpstreamTimeout"},
		{Config{Client: cs, Service: "kube-dns"}, "Service"},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.cfg, err, c.want)
		}
		if s, err := New(c.cfg); err == nil || s != nil {
			t.Errorf("New(%+v) = %v, %v; want nil and an error", c.cfg, s, err)
		}
	}
	ok := Config{Client: cs, Domain: "example.internal", TTL: 5 * time.Second, Upstreams: []string{"[::1]:53"}, Service: "a/b"}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
