package runtime

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestSandboxConfigValidate(t *testing.T) {
	good := SandboxConfig{Name: "web-1.a", Namespace: "default", UID: "abc-123", Labels: map[string]string{"app": "web"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(c *SandboxConfig){
		"name":      func(c *SandboxConfig) { c.Name = "" },
		"namespace": func(c *SandboxConfig) { c.Namespace = "Bad" },
		"uid":       func(c *SandboxConfig) { c.UID = "has space" },
		"hostname":  func(c *SandboxConfig) { c.Hostname = "-x" },
		"labels":    func(c *SandboxConfig) { c.Labels = map[string]string{LabelPodUID: "x"} },
	}
	for field, mutate := range cases {
		c := good
		mutate(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want a FieldError for %s", field, err, field)
		}
	}
}

func TestContainerConfigValidate(t *testing.T) {
	good := ContainerConfig{Name: "app", Image: "example.com/app:v1", Env: []string{"A=b"}, WorkingDir: "/w",
		Resources: Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]func(c *ContainerConfig){
		"name":                  func(c *ContainerConfig) { c.Name = "a_b" },
		"image":                 func(c *ContainerConfig) { c.Image = "" },
		"command[0]":            func(c *ContainerConfig) { c.Command = []string{""} },
		"args[1]":               func(c *ContainerConfig) { c.Args = []string{"ok", "nul\x00"} },
		"env[0]":                func(c *ContainerConfig) { c.Env = []string{"NOEQUALS"} },
		"workingDir":            func(c *ContainerConfig) { c.WorkingDir = "relative" },
		"labels":                func(c *ContainerConfig) { c.Labels = map[string]string{"": "x"} },
		"resources.cpuShares":   func(c *ContainerConfig) { c.Resources.CPUShares = 1 },
		"resources.cpuQuota":    func(c *ContainerConfig) { c.Resources.CPUQuota = 10 },
		"resources.cpuPeriod":   func(c *ContainerConfig) { c.Resources.CPUPeriod = 10 },
		"resources.memoryLimit": func(c *ContainerConfig) { c.Resources.MemoryLimit = -1 },
	}
	for field, mutate := range cases {
		c := good
		mutate(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != field || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v, want a FieldError for %s", field, err, field)
		}
	}
}

func TestIDs(t *testing.T) {
	a := SandboxConfig{Name: "a", Namespace: "n", UID: "u"}
	b := a
	b.Attempt = 1
	if SandboxID(a) != SandboxID(a) || SandboxID(a) == SandboxID(b) {
		t.Fatal("SandboxID must be stable and differ by attempt")
	}
	// Field boundaries matter: ("ab","c") and ("a","bc") differ.
	if SandboxID(SandboxConfig{Name: "ab", Namespace: "c", UID: "u"}) == SandboxID(SandboxConfig{Name: "b", Namespace: "ca", UID: "u"}) {
		t.Fatal("SandboxID collides across field boundaries")
	}
	c := ContainerConfig{Name: "x"}
	if ContainerID("s1", c) == ContainerID("s2", c) {
		t.Fatal("ContainerID must depend on the sandbox")
	}
}

func TestFilters(t *testing.T) {
	s := ContainerStatus{ID: "1", SandboxID: "s", State: ContainerRunning, Labels: map[string]string{"a": "1", "b": "2"}}
	match := []ContainerFilter{{}, {ID: "1"}, {SandboxID: "s"}, {State: ContainerRunning}, {Labels: map[string]string{"a": "1", "b": "2"}}}
	for _, f := range match {
		if !f.Match(s) {
			t.Errorf("%+v should match", f)
		}
	}
	miss := []ContainerFilter{{ID: "2"}, {SandboxID: "t"}, {State: ContainerExited}, {Labels: map[string]string{"a": "2"}}, {Labels: map[string]string{"c": ""}}}
	for _, f := range miss {
		if f.Match(s) {
			t.Errorf("%+v should not match", f)
		}
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// FuzzCheckDNS compares the hand-written DNS label check with a regexp.
func FuzzCheckDNS(f *testing.F) {
	for _, s := range []string{"a", "web-1", "-a", "a-", "A", "a.b", "", strings.Repeat("a", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkDNS("f", s, 63, false)
		want := len(s) <= 63 && dnsLabel.MatchString(s)
		if (err == nil) != want {
			t.Fatalf("checkDNS(%q) = %v, want valid=%v", s, err, want)
		}
	})
}
