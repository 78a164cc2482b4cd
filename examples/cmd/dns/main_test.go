package main

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	o, err := parse([]string{"--kubeconfig", "k", "--listen", "127.0.0.1:1053", "--upstream", "10.0.0.1:53", "--upstream", "10.0.0.2:53", "--ttl", "5s"})
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Listen != "127.0.0.1:1053" || len(o.cfg.Upstreams) != 2 || o.cfg.TTL != 5*time.Second || o.cfg.ZeroTTL {
		t.Errorf("parsed %+v", o.cfg)
	}
	if o, err = parse([]string{"--kubeconfig", "k", "--ttl", "0s"}); err != nil || !o.cfg.ZeroTTL {
		t.Errorf("--ttl 0s: %+v %v", o.cfg, err)
	}
	if _, err := parse(nil); err == nil || !strings.Contains(err.Error(), "--kubeconfig") {
		t.Errorf("no kubeconfig: %v", err)
	}
}
