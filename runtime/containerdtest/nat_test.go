package containerdtest

import "testing"

func TestIdlePortmapTable(t *testing.T) {
	skeleton := `table ip nat {
	chain CNI-HOSTPORT-SETMARK {
		 counter packets 35 bytes 2100 meta mark set mark or 0x2000
	}
	chain CNI-HOSTPORT-DNAT {
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter packets 0 bytes 0 jump CNI-HOSTPORT-DNAT
	}
}`
	if !idlePortmapTable(skeleton) {
		t.Errorf("the bare portmap skeleton is not idle")
	}
	mapped := `table ip nat {
	chain CNI-HOSTPORT-DNAT {
		tcp dport 8080 jump CNI-DN-1234
	}
	chain CNI-DN-1234 {
	}
}`
	if idlePortmapTable(mapped) {
		t.Errorf("a table with an active mapping counts as idle")
	}
	other := `table ip nat {
	chain DOCKER {
	}
}`
	if idlePortmapTable(other) {
		t.Errorf("a table with a chain portmap does not make counts as idle")
	}
}
