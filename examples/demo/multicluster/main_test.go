package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testSubnet is a random /24 in 10.160.0.0-10.199.255.0, so that the
// test does not meet the demo's default or other tests' subnets.
func testSubnet(t *testing.T) netip.Prefix {
	a, _ := rand.Int(rand.Reader, big.NewInt(40))
	b, _ := rand.Int(rand.Reader, big.NewInt(256))
	return netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", 160+a.Int64(), b.Int64()))
}

// noLeftovers fails t if a link, network namespace or process of the run
// whose working directory is dir and whose names start with tag is left.
func noLeftovers(t *testing.T, dir, tag string) {
	t.Helper()
	for _, d := range []string{"/sys/class/net", "/run/netns"} {
		entries, _ := os.ReadDir(d)
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), tag) {
				t.Errorf("left after teardown: %s", filepath.Join(d, en.Name()))
			}
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("working directory %s left after teardown (%v)", dir, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), dir) {
			t.Errorf("process left after teardown: %s: %s", p, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

var workLine = regexp.MustCompile(`# working directory (\S+); links and network namespaces named (\S+)\*`)

// TestDemoMulticluster runs `make demo-multicluster` and checks what it
// claims besides the demo's own checks (which fail run): the 4/2 split,
// the localized image in west only, kubectl through the hub into each
// child, and a teardown that leaves no namespace, link, process or file.
func TestDemoMulticluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out strings.Builder
	err := run(ctx, &out, testSubnet(t))
	transcript := out.String()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, transcript)
	}
	m := workLine.FindStringSubmatch(transcript)
	if m == nil {
		t.Fatalf("transcript names no working directory:\n%s", transcript)
	}
	noLeftovers(t, m[1], m[2])
	for _, want := range []string{
		"region=east", "region=west",
		"subscription.multicluster.setpoint.dev/web created", "localization.multicluster.setpoint.dev/web-image created",
		"Dividing/Static   east=4,west=2   2/2",
		"/clusters/east/proxy get deploy,pods", "/clusters/west/proxy get deploy,pods",
		"refuse connections from the host",
		"no process, namespace, link or file of the demo is left",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("transcript lacks %q:\n%s", want, transcript)
		}
	}
	// The output of kubectl through the hub, per child.
	east, west, ok := strings.Cut(transcript[strings.Index(transcript, "/clusters/east/proxy get"):], "/clusters/west/proxy get")
	if !ok {
		t.Fatalf("transcript lacks kubectl through the hub into west:\n%s", transcript)
	}
	west, _, _ = strings.Cut(west, "\n# ")
	for _, c := range []struct {
		name, out, image, notImage string
		pods                       int
	}{{"east", east, " " + defaultImage + " ", westImage, 4}, {"west", west, westImage, " " + defaultImage + " ", 2}} {
		if n := strings.Count(c.out, "pod/web-"); n != c.pods {
			t.Errorf("%s: %d pods through the hub, want %d:\n%s", c.name, n, c.pods, c.out)
		}
		if !strings.Contains(c.out, c.image) || strings.Contains(c.out, c.notImage) {
			t.Errorf("%s: want image %q and not %q:\n%s", c.name, c.image, c.notImage, c.out)
		}
	}
}

// TestDemoMulticlusterWrongToken: an agent with a token the parent does
// not know fails at once with an error naming the hub's refusal, and
// nothing is registered: no ManagedCluster, no cluster namespace.
func TestDemoMulticlusterWrongToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out strings.Builder
	e, err := newEnv(ctx, &out, testSubnet(t))
	if err != nil {
		t.Fatal(err)
	}
	dir, tag := e.dir, e.tag
	defer func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", out.String())
		}
	}()
	defer func() {
		if err := e.close(); err != nil {
			t.Errorf("teardown: %v", err)
		}
		noLeftovers(t, dir, tag)
	}()
	if err := e.makeBridge(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := e.startParent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := e.children()[0]
	if _, err := e.startChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := e.createToken(ctx, p); err != nil { // a real token exists, just not this one
		t.Fatal(err)
	}
	if err := e.allowRegistration(ctx, p); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(e.dir, "wrong-token")
	if err := os.WriteFile(wrong, []byte("abcdef.0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := e.startAgent(c, p, wrong)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		t.Fatalf("the agent with a wrong token did not exit:\n%s", a.output())
	}
	if a.err == nil {
		t.Fatalf("the agent with a wrong token exited 0:\n%s", a.output())
	}
	if msg := a.output(); !strings.Contains(msg, "register cluster east: hub answered 401 Unauthorized") {
		t.Errorf("agent's error does not say the hub refused the token:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "hub.token")); !os.IsNotExist(err) {
		t.Errorf("the refused agent wrote a hub token (%v)", err)
	}
	got, err := e.kubectlOut(ctx, p.kubeconfig, "", "get", "managedclusters."+mcGroup, "-A", "-o", "name")
	if err != nil || strings.TrimSpace(got) != "" {
		t.Errorf("ManagedClusters after a refused registration: %q (%v), want none", got, err)
	}
	if _, err := e.kubectlOut(ctx, p.kubeconfig, "", "get", "namespace", "mcls-east"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Errorf("namespace mcls-east after a refused registration: %v, want NotFound", err)
	}
}
