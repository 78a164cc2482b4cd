package kubelet

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/runtime"
)

// probeKind is startup, liveness or readiness.
type probeKind string

const (
	probeStartup   probeKind = "Startup"
	probeLiveness  probeKind = "Liveness"
	probeReadiness probeKind = "Readiness"
)

// probeState is what the probes of one running container found.
type probeState struct {
	started bool // startup probe succeeded (or none)
	ready   bool // readiness probe succeeded last (or none)
}

// prober runs the probes of one running container: one goroutine per
// container, stopped when the container is no longer the pod's running
// attempt.
type prober struct {
	cancel context.CancelFunc
	mu     sync.Mutex
	state  probeState
}

// hasProbes reports whether c has any probe.
func hasProbes(c *api.Container) bool {
	return c.StartupProbe != nil || c.LivenessProbe != nil || c.ReadinessProbe != nil
}

// probeStateOf returns the probe results of a running container: without
// probes it is started and ready; with probes, what they found so far.
func (k *Kubelet) probeStateOf(c *api.Container, containerID string) probeState {
	if !hasProbes(c) {
		return probeState{started: true, ready: true}
	}
	k.mu.Lock()
	p := k.probers[containerID]
	k.mu.Unlock()
	if p == nil {
		return probeState{started: c.StartupProbe == nil, ready: false}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// syncProbes starts probers for the pod's running containers that have
// probes and stops those of containers that no longer run.
func (k *Kubelet) syncProbes(pod *api.Pod, rs runtimeState) {
	want := map[string]*api.Container{}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if rec := rs.containers[c.Name]; rec != nil && rec.latest.State == runtime.ContainerRunning && hasProbes(c) {
			want[rec.latest.ID] = c
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.probers == nil {
		k.probers = map[string]*prober{}
		k.proberPod = map[string]string{}
	}
	for id, p := range k.probers {
		if k.proberPod[id] == string(pod.UID) && want[id] == nil {
			p.cancel()
			delete(k.probers, id)
			delete(k.proberPod, id)
		}
	}
	if k.probeCtx == nil {
		return
	}
	for id, c := range want {
		if k.probers[id] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(k.probeCtx)
		p := &prober{cancel: cancel, state: probeState{started: c.StartupProbe == nil, ready: c.ReadinessProbe == nil}}
		k.probers[id], k.proberPod[id] = p, string(pod.UID)
		go k.runProber(ctx, p, pod.DeepCopy(), c.DeepCopy(), id, rs.sandbox.ID)
	}
}

// stopProbes stops every prober of the pod uid.
func (k *Kubelet) stopProbes(uid string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, p := range k.probers {
		if k.proberPod[id] == uid {
			p.cancel()
			delete(k.probers, id)
			delete(k.proberPod, id)
		}
	}
}

// probeTiming is a probe's timing with Kubernetes' defaults.
type probeTiming struct {
	delay, period, timeout time.Duration
	success, failure       int
}

func timingOf(p *api.Probe) probeTiming {
	t := probeTiming{delay: time.Duration(p.InitialDelaySeconds) * time.Second, period: 10 * time.Second, timeout: time.Second, success: 1, failure: 3}
	if p.PeriodSeconds > 0 {
		t.period = time.Duration(p.PeriodSeconds) * time.Second
	}
	if p.TimeoutSeconds > 0 {
		t.timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	if p.SuccessThreshold > 0 {
		t.success = int(p.SuccessThreshold)
	}
	if p.FailureThreshold > 0 {
		t.failure = int(p.FailureThreshold)
	}
	return t
}

// runProber probes one container: the startup probe until it succeeds,
// then liveness and readiness, each on its own period. A startup or
// liveness probe failing failureThreshold times in a row kills the
// container (the restart policy then applies); readiness results flip the
// container's ready. Every change of result re-syncs the pod.
func (k *Kubelet) runProber(ctx context.Context, p *prober, pod *api.Pod, c *api.Container, id, sandboxID string) {
	clock := k.cfg.Clock
	key := reconcile.Request{Namespace: pod.Namespace, Name: pod.Name}
	type probeRun struct {
		kind   probeKind
		probe  *api.Probe
		timing probeTiming
		next   time.Time
		ok     int
		fail   int
	}
	start := clock.Now()
	var runs []*probeRun
	for _, pr := range []struct {
		kind  probeKind
		probe *api.Probe
	}{{probeStartup, c.StartupProbe}, {probeLiveness, c.LivenessProbe}, {probeReadiness, c.ReadinessProbe}} {
		if pr.probe != nil {
			t := timingOf(pr.probe)
			runs = append(runs, &probeRun{kind: pr.kind, probe: pr.probe, timing: t, next: start.Add(t.delay)})
		}
	}
	for {
		p.mu.Lock()
		started := p.state.started
		p.mu.Unlock()
		var due *probeRun
		for _, r := range runs {
			if (r.kind == probeStartup) == started {
				continue // startup runs until started; the others after
			}
			if due == nil || r.next.Before(due.next) {
				due = r
			}
		}
		if due == nil {
			return
		}
		if wait := due.next.Sub(clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-clock.After(wait):
			}
		}
		due.next = due.next.Add(due.timing.period)
		if now := clock.Now(); due.next.Before(now) {
			due.next = now.Add(due.timing.period)
		}
		err := k.probeOnce(ctx, due.probe, due.timing.timeout, c, id, sandboxID)
		if ctx.Err() != nil {
			return
		}
		changed := false
		if err == nil {
			due.ok, due.fail = due.ok+1, 0
		} else {
			due.ok, due.fail = 0, due.fail+1
			k.ev.pod(ctx, pod, eventWarning, "Unhealthy", fmt.Sprintf("%s probe failed: %v", due.kind, err))
		}
		p.mu.Lock()
		switch due.kind {
		case probeStartup:
			if due.ok >= due.timing.success && !p.state.started {
				p.state.started, changed = true, true
				now := clock.Now()
				for _, r := range runs {
					if r.kind != probeStartup {
						r.next = now.Add(r.timing.delay)
					}
				}
			}
		case probeReadiness:
			if due.ok >= due.timing.success && !p.state.ready {
				p.state.ready, changed = true, true
			}
			if due.fail >= due.timing.failure && p.state.ready {
				p.state.ready, changed = false, true
			}
		}
		p.mu.Unlock()
		if (due.kind == probeLiveness || due.kind == probeStartup) && due.fail >= due.timing.failure {
			k.ev.pod(ctx, pod, eventNormal, "Killing", fmt.Sprintf("Container %s failed %s probe, will be restarted", c.Name, strings.ToLower(string(due.kind))))
			grace := k.gracePeriod(pod)
			if g := due.probe.TerminationGracePeriodSeconds; g != nil {
				grace = time.Duration(*g) * time.Second
			}
			if err := k.rt.StopContainer(ctx, id, grace); err != nil && ctx.Err() == nil {
				k.log.Warn("killing an unhealthy container", "pod", podKey(pod), "container", c.Name, "err", err)
			}
			k.ctl.Queue().Add(key)
			return
		}
		if changed {
			k.ctl.Queue().Add(key)
		}
	}
}

// probeOnce runs one probe against the container c (runtime ID id),
// within timeout: exec (exit code 0), httpGet (status 200-399) or
// tcpSocket (connects), the network ones through the sandbox's network
// namespace.
func (k *Kubelet) probeOnce(ctx context.Context, p *api.Probe, timeout time.Duration, c *api.Container, id, sandboxID string) error {
	ctx, cancel := clockwork.WithTimeout(ctx, k.cfg.Clock, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		var out strings.Builder
		code, err := k.rt.Exec(ctx, id, runtime.ExecOptions{Cmd: p.Exec.Command, Stdout: &out, Stderr: &out})
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("command %q exited with %d: %s", p.Exec.Command, code, strings.TrimSpace(out.String()))
		}
		return nil
	case p.TCPSocket != nil:
		port, err := probePort(p.TCPSocket.Port, c)
		if err != nil {
			return err
		}
		conn, err := k.rt.PortForward(ctx, sandboxID, port)
		if err != nil {
			return fmt.Errorf("dial tcp port %d: %w", port, err)
		}
		return conn.Close()
	case p.HTTPGet != nil:
		return k.httpProbe(ctx, p.HTTPGet, c, sandboxID)
	case p.GRPC != nil:
		return k.grpcProbe(ctx, p.GRPC, sandboxID)
	}
	return fmt.Errorf("probe names no handler")
}

// httpProbe sends one GET over a connection into the sandbox, the port
// resolved against c's ports; with scheme HTTPS over TLS, the server's
// certificate not verified (as Kubernetes' prober does).
func (k *Kubelet) httpProbe(ctx context.Context, g *api.HTTPGetAction, c *api.Container, sandboxID string) error {
	port, err := probePort(g.Port, c)
	if err != nil {
		return err
	}
	conn, err := k.rt.PortForward(ctx, sandboxID, port)
	if err != nil {
		return fmt.Errorf("dial tcp port %d: %w", port, err)
	}
	defer conn.Close()
	// The timeout is on the kubelet's clock: ctx ends then, and closes the
	// connection (a deadline on the connection would be on the real clock).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	path := g.Path
	if path == "" {
		path = "/"
	}
	host := g.Host
	if host == "" {
		host = "localhost"
	}
	scheme, wire := "http", conn
	if g.Scheme == api.URISchemeHTTPS {
		scheme = "https"
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: host}) //nolint:gosec // the kubelet's prober does not verify
		wire = tc
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("https probe on port %d: %w", port, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, fmt.Sprint(port))+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/1.32")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	if err := req.Write(wire); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(wire), req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.CopyN(io.Discard, resp.Body, 10<<10)
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return nil
}

// probePort is a probe's or hook's port: a number, or the name of one of
// c's ports (Kubernetes' named port; a name c has no port of fails, naming
// it, and a string of digits is taken as the number, as Kubernetes does).
func probePort(v api.IntOrString, c *api.Container) (uint16, error) {
	n := v.IntVal
	if v.IsString {
		found := false
		if c != nil {
			for _, p := range c.Ports {
				if p.Name != "" && p.Name == v.StrVal {
					n, found = p.ContainerPort, true
					break
				}
			}
		}
		if !found {
			i, err := strconv.ParseInt(v.StrVal, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("port %q not found in the container's ports", v.StrVal)
			}
			n = int32(i)
		}
	}
	if n <= 0 || n > 65535 {
		return 0, fmt.Errorf("port %s: want 1-65535", v.String())
	}
	return uint16(n), nil
}
