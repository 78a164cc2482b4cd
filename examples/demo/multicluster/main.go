// Command multicluster is `make demo-multicluster`: a multi-cluster
// setup on this machine, driven by kubectl. It builds setpoint and the
// agent, then
//
//   - runs the parent as `setpoint server --serve-multicluster` on the
//     address of a bridge it makes (10.213.0.1 by default, with --tls-san
//     for it): the apiserver serves multicluster.setpoint.dev and the hub
//     and its Subscription controller run in the same process, the hub
//     approving registrations automatically (--hub-auto-approve);
//   - makes two network namespaces, east and west, each with a veth on
//     the bridge (10.213.0.2 and .3), and runs a child `setpoint server` in
//     each, listening on its namespace's address with --tls-san for it; an
//     nftables rule in the namespace refuses connections from outside to
//     that port, so the host reaches the children only through the hub;
//   - creates a bootstrap token in the parent (`setpoint token create`),
//     lets bootstrap tokens create ClusterRegistrationRequests, and runs
//     an agent in each namespace that registers its child with the token
//     and the label region=east or region=west, then keeps its tunnel to
//     the hub and pulls its Descriptions from the parent;
//   - applies a Localization in west's namespace that changes the image,
//     and a Subscription dividing a Deployment of 6 replicas by static
//     weights 2:1 (east 4, west 2), and waits until each child holds its
//     Deployment with its replicas and image and has created its pods;
//   - runs `kubectl get deploy,pods` in each child through the hub's proxy
//     (--server https://<hub>/apis/multicluster.setpoint.dev/v1alpha1/clusters/<id>/proxy);
//   - tears everything down: processes, namespaces, links and files, also
//     on Ctrl-C or a failed step.
//
// The children run no node: their controller-managers create the
// Deployments' ReplicaSets and pods, which stay Pending (unscheduled).
// It prints each command and its real output and exits 1 if a step does
// not do what it claims. It needs root, ip and nft (iproute2, nftables),
// kubectl and the go command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	subnet := flag.String("subnet", "10.213.0.0/24", "IPv4 /24 of the bridge between the host and the children's namespaces")
	flag.Parse()
	p, err := netip.ParsePrefix(*subnet)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-multicluster: --subnet:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = run(ctx, os.Stdout, p)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("stopped before the end (Ctrl-C, SIGTERM or the 5-minute bound): %w", err)
	}
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-multicluster:", err)
		os.Exit(1)
	}
}

// Names in the parent and the children.
const (
	mcGroup      = "multicluster.setpoint.dev"
	westImage    = "nginx:1.27-alpine"
	defaultImage = "nginx:1.27"
	tokenFile    = "bootstrap-token"
)

const registerRBAC = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: multicluster-register
rules:
- apiGroups: [multicluster.setpoint.dev]
  resources: [clusterregistrationrequests]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: multicluster-register
subjects:
- kind: Group
  apiGroup: rbac.authorization.k8s.io
  name: system:bootstrappers
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: multicluster-register
`

const localizationYAML = `apiVersion: multicluster.setpoint.dev/v1alpha1
kind: Localization
metadata:
  name: web-image
  namespace: mcls-west
spec:
  feed: {apiVersion: apps/v1, kind: Deployment, namespace: default, name: web}
  priority: 10
  overrides:
  - name: west-image
    type: JSONPatch
    value: '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"` + westImage + `"}]'
`

const subscriptionYAML = `apiVersion: multicluster.setpoint.dev/v1alpha1
kind: Subscription
metadata:
  name: web
  namespace: default
spec:
  schedulingStrategy: Dividing
  dividingType: Static
  subscribers:
  - clusterAffinity: {matchLabels: {region: east}}
    weight: 2
  - clusterAffinity: {matchLabels: {region: west}}
    weight: 1
  manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: default}
    spec:
      replicas: 6
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: ` + defaultImage + `
`

// parent is the running parent: its URLs and admin kubeconfig.
type parent struct {
	proc       *proc
	url, hub   string
	kubeconfig string
	ca         string
}

// startParent runs `setpoint server --serve-multicluster` on the bridge's
// address and waits until the apiserver and the hub answer.
func (e *env) startParent(ctx context.Context) (*parent, error) {
	apiPort, err := e.freePort()
	if err != nil {
		return nil, err
	}
	hubPort, err := e.freePort()
	if err != nil {
		return nil, err
	}
	host := e.hostIP.String()
	dir := filepath.Join(e.dir, "parent")
	p := &parent{url: "https://" + net.JoinHostPort(host, apiPort), hub: "https://" + net.JoinHostPort(host, hubPort),
		kubeconfig: filepath.Join(dir, "admin.kubeconfig"), ca: filepath.Join(dir, "pki", "ca.crt")}
	e.say("starting the parent: setpoint server --serve-multicluster --listen %s:%s --tls-san %s --hub-listen %s:%s --hub-auto-approve",
		host, apiPort, host, host, hubPort)
	p.proc, err = e.start("parent", "", "setpoint", "server", "--data-dir", dir, "--listen", net.JoinHostPort(host, apiPort),
		"--tls-san", host, "--serve-multicluster", "--hub-listen", net.JoinHostPort(host, hubPort), "--hub-auto-approve",
		"--dns-listen", "127.0.0.1:0", "--etcd-no-fsync")
	if err != nil {
		return nil, err
	}
	err = poll(ctx, "parent apiserver and hub", p.proc, func() error {
		if _, err := os.Stat(p.kubeconfig); err != nil {
			return err
		}
		if _, err := e.kubectlOut(ctx, p.kubeconfig, "", "get", "--raw", "/readyz"); err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, hubPort), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
	return p, err
}

// startChild makes c's namespace and runs its setpoint server there,
// waiting until it has written its admin kubeconfig (once it serves).
func (e *env) startChild(ctx context.Context, c *child) (*proc, error) {
	if err := e.makeNetns(ctx, c); err != nil {
		return nil, err
	}
	e.say("starting child %s in network namespace %s: setpoint server --listen %s:%s --tls-san %s",
		c.name, c.netns, c.addr, childAPIPort, c.addr)
	p, err := e.start("child-"+c.name, c.netns, "setpoint", "server", "--data-dir", c.dir,
		"--listen", net.JoinHostPort(c.addr.String(), childAPIPort), "--tls-san", c.addr.String(),
		"--dns-listen", "127.0.0.1:0", "--etcd-no-fsync")
	if err != nil {
		return nil, err
	}
	return p, poll(ctx, "child "+c.name+" serving", p, func() error {
		_, err := os.Stat(filepath.Join(c.dir, "admin.kubeconfig"))
		return err
	})
}

// startAgent runs c's agent in c's namespace with the bootstrap token in
// tokenPath.
func (e *env) startAgent(c *child, p *parent, tokenPath string) (*proc, error) {
	e.say("starting the agent of %s in %s: it registers with the bootstrap token, labels region=%s", c.name, c.netns, c.name)
	return e.start("agent-"+c.name, c.netns, "agent", "--cluster-id", c.name, "--hub", p.hub, "--hub-ca", p.ca,
		"--bootstrap-token-file", tokenPath, "--hub-token-file", filepath.Join(c.dir, "hub.token"),
		"--cluster-labels", "region="+c.name, "--child-kubeconfig", filepath.Join(c.dir, "admin.kubeconfig"),
		"--parent", p.url, "--parent-ca", p.ca, "--heartbeat-period", "2s")
}

// kubectlOut runs kubectl with kubeconfig (and --server if server is not
// empty) and returns its standard output, or an error with its standard
// error.
func (e *env) kubectlOut(ctx context.Context, kubeconfig, server string, args ...string) (string, error) {
	full := []string{"--kubeconfig", kubeconfig}
	if server != "" {
		full = append(full, "--server", server)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, e.kubectl, full...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// show prints a kubectl command (the kubeconfig and server shown short)
// and its output, and fails if it does.
func (e *env) show(ctx context.Context, kubeconfig, server string, stdin string, args ...string) (string, error) {
	shown := "$ kubectl"
	if server != "" {
		shown += " --server " + server
	}
	for _, a := range args {
		if strings.ContainsAny(a, ` {"'`) {
			a = "'" + a + "'"
		}
		shown += " " + a
	}
	fmt.Fprintln(e.w, shown)
	full := []string{"--kubeconfig", kubeconfig}
	if server != "" {
		full = append(full, "--server", server)
	}
	cmd := exec.CommandContext(ctx, e.kubectl, append(full, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+e.dir)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	e.w.Write(out)
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// proxyURL is the hub's proxy to cluster id.
func (p *parent) proxyURL(id string) string {
	return p.hub + "/apis/" + mcGroup + "/v1alpha1/clusters/" + id + "/proxy"
}

// children returns east and west, on the addresses after the host's.
func (e *env) children() []*child {
	var cs []*child
	a := e.hostIP
	for _, name := range []string{"east", "west"} {
		a = a.Next()
		cs = append(cs, &child{name: name, netns: e.tag + "-" + name, addr: a, dir: filepath.Join(e.dir, name)})
	}
	return cs
}

// createToken makes a bootstrap token in the parent and writes it to
// dir/bootstrap-token.
func (e *env) createToken(ctx context.Context, p *parent) (string, error) {
	e.say("creating a bootstrap token in the parent: setpoint token create --ttl 1h")
	out, err := exec.CommandContext(ctx, filepath.Join(e.bin, "setpoint"), "token", "create", "--kubeconfig", p.kubeconfig,
		"--ttl", "1h", "--description", "multi-cluster demo").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("setpoint token create: %v: %s", err, out)
	}
	path := filepath.Join(e.dir, tokenFile)
	return path, os.WriteFile(path, []byte(strings.TrimSpace(string(out))+"\n"), 0o600)
}

// allowRegistration lets bootstrap tokens create registration requests
// and waits until the parent's authorizer says so.
func (e *env) allowRegistration(ctx context.Context, p *parent) error {
	e.say("letting bootstrap tokens (group system:bootstrappers) create ClusterRegistrationRequests, and nothing else")
	if _, err := e.show(ctx, p.kubeconfig, "", registerRBAC, "apply", "-f", "-"); err != nil {
		return err
	}
	return poll(ctx, "bootstrap tokens allowed to register", p.proc, func() error {
		out, _ := e.kubectlOut(ctx, p.kubeconfig, "", "auth", "can-i", "create", "clusterregistrationrequests."+mcGroup,
			"--as", "system:bootstrap:probe", "--as-group", "system:bootstrappers", "--as-group", "system:authenticated")
		if strings.TrimSpace(out) != "yes" {
			return fmt.Errorf("can-i: %q", strings.TrimSpace(out))
		}
		return nil
	})
}

// run runs the whole demo on subnet, writing the transcript to w.
func run(ctx context.Context, w io.Writer, subnet netip.Prefix) (err error) {
	start := time.Now()
	e, err := newEnv(ctx, w, subnet)
	if err != nil {
		return err
	}
	defer func() {
		e.say("tearing down: stopping the agents, the children and the parent; deleting the namespaces and the bridge")
		cerr := e.close()
		if cerr == nil {
			e.say("no process, namespace, link or file of the demo is left")
		}
		err = errors.Join(err, cerr)
	}()
	if err := e.makeBridge(ctx); err != nil {
		return err
	}
	p, err := e.startParent(ctx)
	if err != nil {
		return err
	}
	kids := e.children()
	for _, c := range kids {
		if _, err := e.startChild(ctx, c); err != nil {
			return err
		}
	}
	tok, err := e.createToken(ctx, p)
	if err != nil {
		return err
	}
	if err := e.allowRegistration(ctx, p); err != nil {
		return err
	}
	agents := map[string]*proc{}
	for _, c := range kids {
		if agents[c.name], err = e.startAgent(c, p, tok); err != nil {
			return err
		}
	}
	for _, c := range kids {
		err := poll(ctx, "cluster "+c.name+" Ready", agents[c.name], func() error {
			out, err := e.kubectlOut(ctx, p.kubeconfig, "", "get", "managedclusters."+mcGroup, "-n", "mcls-"+c.name, c.name,
				"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			if err != nil || strings.TrimSpace(out) != "True" {
				return fmt.Errorf("Ready=%q %v", strings.TrimSpace(out), err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	e.say("both children registered and Ready (agents' tokens in place of the bootstrap token)")
	if _, err := e.show(ctx, p.kubeconfig, "", "", "get", "managedclusters."+mcGroup, "-A", "--show-labels"); err != nil {
		return err
	}
	for _, c := range kids {
		if err := directRefused(ctx, c); err != nil {
			return err
		}
	}
	e.say("the children's apiservers refuse connections from the host (%s:%s and %s:%s): they are reached only through the hub",
		kids[0].addr, childAPIPort, kids[1].addr, childAPIPort)

	e.say("a Localization in west's namespace changes the image; a Subscription divides 6 replicas 2:1 by static weights")
	if _, err := e.show(ctx, p.kubeconfig, "", localizationYAML, "apply", "-f", "-"); err != nil {
		return err
	}
	if _, err := e.show(ctx, p.kubeconfig, "", subscriptionYAML, "apply", "-f", "-"); err != nil {
		return err
	}
	want := map[string]struct {
		replicas int
		image    string
	}{"east": {4, defaultImage}, "west": {2, westImage}}
	for _, c := range kids {
		wc := want[c.name]
		err := poll(ctx, fmt.Sprintf("deployment web in %s with %d replicas of %s", c.name, wc.replicas, wc.image), agents[c.name], func() error {
			out, err := e.kubectlOut(ctx, p.kubeconfig, p.proxyURL(c.name), "get", "deployment", "web", "-n", "default",
				"-o", `jsonpath={.spec.replicas} {.status.replicas} {.spec.template.spec.containers[0].image}`)
			if err != nil {
				return err
			}
			if got, w := strings.TrimSpace(out), fmt.Sprintf("%d %d %s", wc.replicas, wc.replicas, wc.image); got != w {
				return fmt.Errorf("spec.replicas, status.replicas, image = %q, want %q", got, w)
			}
			pods, err := e.kubectlOut(ctx, p.kubeconfig, p.proxyURL(c.name), "get", "pods", "-n", "default", "-l", "app=web", "-o", "name")
			if err != nil {
				return err
			}
			if n := len(strings.Fields(pods)); n != wc.replicas {
				return fmt.Errorf("%d pods, want %d", n, wc.replicas)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := e.show(ctx, p.kubeconfig, "", "", "get", "subscriptions."+mcGroup, "-n", "default"); err != nil {
		return err
	}
	for _, c := range kids {
		e.say("child %s through the hub's proxy (the caller's identity passed on by impersonation)", c.name)
		out, err := e.show(ctx, p.kubeconfig, p.proxyURL(c.name), "", "get", "deploy,pods", "-n", "default", "-o", "wide")
		if err != nil {
			return err
		}
		wc := want[c.name]
		if strings.Count(out, "pod/web-") != wc.replicas || !strings.Contains(out, wc.image) {
			return fmt.Errorf("child %s: want %d pods of %s in kubectl's output", c.name, wc.replicas, wc.image)
		}
		if c.name != "west" && strings.Contains(out, westImage) {
			return fmt.Errorf("child %s has west's localized image %s", c.name, westImage)
		}
	}
	e.say("east holds 4 replicas of %s, west 2 of %s (its Localization); the pods stay Pending: the children run no node", defaultImage, westImage)
	e.say("demo steps took %s", time.Since(start).Round(time.Second))
	return nil
}

// directRefused checks that the host cannot reach c's apiserver directly.
func directRefused(ctx context.Context, c *child) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(c.addr.String(), childAPIPort))
	if err == nil {
		conn.Close()
		return fmt.Errorf("child %s: the host reached its apiserver directly at %s:%s", c.name, c.addr, childAPIPort)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("child %s: dialing %s:%s from the host: %v, want connection refused", c.name, c.addr, childAPIPort, err)
	}
	return nil
}
