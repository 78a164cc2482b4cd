package fake

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"syscall"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/podfiles"
)

type sandbox struct {
	status  runtime.SandboxStatus
	ipNum   uint32
	net     *vnet
	hosts   []byte
	resolv  []byte
	volumes map[string]*memVolume // tmpfs volumes by name
}

// RunSandbox makes a ready sandbox with an IP from 10.244.0.0/16 and a
// simulated network namespace.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("run sandbox: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("RunSandbox"); err != nil {
		return "", err
	}
	id := runtime.SandboxID(cfg)
	if _, ok := r.sandboxes[id]; ok {
		return "", fmt.Errorf("%w: sandbox %s for pod %s/%s (uid %s, attempt %d)", runtime.ErrAlreadyExists, id, cfg.Namespace, cfg.Name, cfg.UID, cfg.Attempt)
	}
	if err := r.checkHostPorts(id, cfg.PortMappings); err != nil {
		return "", err
	}
	hostname := cfg.Hostname
	if hostname == "" && cfg.HostNetwork {
		hostname = r.opts.hostname
	}
	if hostname == "" {
		hostname = strings.TrimRight(cfg.Name[:min(len(cfg.Name), 63)], "-.")
	}
	sb := &sandbox{status: runtime.SandboxStatus{
		ID: id, Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt, Hostname: hostname,
		State: runtime.SandboxReady, HostNetwork: cfg.HostNetwork, CreatedAt: r.now(), Labels: runtime.SandboxLabels(cfg),
		PortMappings: append([]runtime.PortMapping(nil), cfg.PortMappings...),
	}, volumes: map[string]*memVolume{}}
	if cfg.HostNetwork {
		sb.status.IP = r.opts.nodeIP
		sb.net = r.hostNet
	} else {
		if len(r.freeIPs) > 0 {
			sb.ipNum, r.freeIPs = r.freeIPs[0], r.freeIPs[1:]
		} else {
			if r.nextIP >= 1<<16-1 {
				return "", fmt.Errorf("%w: run sandbox %s: the pod subnet 10.244.0.0/16 is exhausted", runtime.ErrUnavailable, id)
			}
			sb.ipNum = r.nextIP
			r.nextIP++
		}
		sb.status.IP = fmt.Sprintf("10.244.%d.%d", sb.ipNum>>8, sb.ipNum&0xff)
		sb.status.NetNS = "/var/run/netns/fake-" + id
		sb.net = newVnet(sb.status.IP)
		r.nets[sb.status.IP] = sb.net
	}
	sb.hosts = podfiles.Hosts(hostname, sb.status.IP)
	if cfg.DNS != nil {
		sb.resolv = podfiles.ResolvConf(*cfg.DNS)
	} else {
		sb.resolv = podfiles.NodeResolvConf()
	}
	for _, p := range cfg.PortMappings {
		r.hostPorts[p.Key()] = sb
	}
	r.sandboxes[id] = sb
	return id, nil
}

// checkHostPorts fails when another ready sandbox holds one of ports; r.mu
// must be held.
func (r *Runtime) checkHostPorts(id string, ports []runtime.PortMapping) error {
	for i, p := range ports {
		for _, other := range r.hostPorts {
			for _, q := range other.status.PortMappings {
				if p.Conflicts(q) {
					return fmt.Errorf("%w: run sandbox %s: portMappings[%d]: host port %s is held by sandbox %s (pod %s/%s)",
						runtime.ErrAlreadyExists, id, i, p.Key(), other.status.ID, other.status.Namespace, other.status.Name)
				}
			}
		}
	}
	return nil
}

func copyStatus(s runtime.SandboxStatus) runtime.SandboxStatus {
	l := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		l[k] = v
	}
	s.Labels = l
	s.PortMappings = append([]runtime.PortMapping(nil), s.PortMappings...)
	return s
}

func (r *Runtime) sandbox(id string) (*sandbox, error) {
	if id == "" {
		return nil, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	sb, ok := r.sandboxes[id]
	if !ok {
		return nil, fmt.Errorf("%w: sandbox %s", runtime.ErrNotFound, id)
	}
	return sb, nil
}

// SandboxStatus reports the sandbox.
func (r *Runtime) SandboxStatus(ctx context.Context, id string) (runtime.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("SandboxStatus"); err != nil {
		return runtime.SandboxStatus{}, err
	}
	sb, err := r.sandbox(id)
	if err != nil {
		return runtime.SandboxStatus{}, err
	}
	return copyStatus(sb.status), nil
}

// ListSandboxes reports the sandboxes matching f, sorted by ID.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.SandboxFilter) ([]runtime.SandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("ListSandboxes"); err != nil {
		return nil, err
	}
	var out []runtime.SandboxStatus
	for _, sb := range r.sandboxes {
		if f.Match(sb.status) {
			out = append(out, copyStatus(sb.status))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StopSandbox stops the sandbox's containers, closes its network and
// releases its IP and host ports.
func (r *Runtime) StopSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	if err := r.injected("StopSandbox"); err != nil {
		r.mu.Unlock()
		return err
	}
	if _, err := r.sandbox(id); err != nil {
		r.mu.Unlock()
		return err
	}
	ids := r.containerIDs(id)
	r.mu.Unlock()
	for _, c := range ids {
		if err := r.StopContainer(ctx, c, r.opts.stopGrace); err != nil && !isNotFound(err) {
			return fmt.Errorf("stop sandbox %s: %w", id, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandbox(id)
	if err != nil {
		return err
	}
	if sb.status.State == runtime.SandboxReady {
		sb.status.State, sb.status.IP, sb.status.NetNS = runtime.SandboxNotReady, "", ""
		if sb.ipNum != 0 {
			delete(r.nets, sb.net.ip)
			sb.net.closeAll()
			r.freeIPs = append(r.freeIPs, sb.ipNum)
			sb.ipNum = 0
		}
		for _, p := range sb.status.PortMappings {
			if r.hostPorts[p.Key()] == sb {
				delete(r.hostPorts, p.Key())
			}
		}
	}
	return nil
}

// RemoveSandbox stops the sandbox, removes its containers and its tmpfs
// volumes, and deletes it.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	if err := r.StopSandbox(ctx, id); err != nil {
		return err
	}
	r.mu.Lock()
	ids := r.containerIDs(id)
	r.mu.Unlock()
	for _, c := range ids {
		if err := r.RemoveContainer(ctx, c); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove sandbox %s: %w", id, err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.sandbox(id); err != nil {
		return err
	}
	delete(r.sandboxes, id)
	return nil
}

// containerIDs lists a sandbox's containers; r.mu must be held.
func (r *Runtime) containerIDs(sandboxID string) []string {
	var ids []string
	for id, c := range r.containers {
		if c.status.SandboxID == sandboxID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// readySandbox returns the ready sandbox id; r.mu must be held.
func (r *Runtime) readySandbox(id, op string) (*sandbox, error) {
	sb, err := r.sandbox(id)
	if err != nil {
		return nil, err
	}
	if sb.status.State != runtime.SandboxReady {
		return nil, fmt.Errorf("%w: %s: sandbox %s is %s", runtime.ErrFailedPrecondition, op, id, sb.status.State)
	}
	return sb, nil
}

// SandboxStats reports the bytes that crossed the sandbox's simulated eth0:
// connections from or to other sandboxes and the node (DialHostPort), not
// those within the sandbox or through PortForward.
func (r *Runtime) SandboxStats(ctx context.Context, id string) (runtime.SandboxStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.injected("SandboxStats"); err != nil {
		return runtime.SandboxStats{}, err
	}
	sb, err := r.readySandbox(id, "sandbox stats")
	if err != nil {
		return runtime.SandboxStats{}, err
	}
	st := runtime.SandboxStats{Timestamp: r.now()}
	if !sb.status.HostNetwork {
		st.Interfaces = []runtime.InterfaceStats{{Name: "eth0", RxBytes: sb.net.rx.Load(), TxBytes: sb.net.tx.Load()}}
	}
	return st, nil
}

// PortForward connects to port on the sandbox's loopback.
func (r *Runtime) PortForward(ctx context.Context, id string, port uint16) (net.Conn, error) {
	r.mu.Lock()
	if err := r.injected("PortForward"); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	sb, err := r.readySandbox(id, "port forward")
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if port == 0 {
		return nil, &runtime.FieldError{Field: "port", Value: "0", Reason: "must be between 1 and 65535"}
	}
	c, err := sb.net.dial(ctx, nil, port, false)
	if err != nil {
		return nil, fmt.Errorf("%w: port forward to sandbox %s port %d: %v", runtime.ErrUnavailable, id, port, err)
	}
	return c, nil
}

// DialHostPort connects to the node's TCP port as a client outside the
// node would, through the sandbox that maps it (a hostPort). It is the
// fake's stand-in for dialing the node's IP.
func (r *Runtime) DialHostPort(ctx context.Context, port uint16) (net.Conn, error) {
	r.mu.Lock()
	sb := r.hostPorts[runtime.PortMapping{HostPort: port}.Key()]
	var target uint16
	if sb != nil {
		for _, p := range sb.status.PortMappings {
			if p.Proto() == runtime.TCP && p.HostPort == port && p.HostIP == "" {
				target = p.ContainerPort
			}
		}
	}
	r.mu.Unlock()
	if sb == nil {
		return nil, fmt.Errorf("%w: dial host port %d: %v", runtime.ErrUnavailable, port, opErr("dial", r.opts.nodeIP, syscall.ECONNREFUSED))
	}
	return sb.net.dial(ctx, nil, target, !sb.status.HostNetwork)
}

// Leftovers lists what the runtime still holds besides its sandboxes and
// containers' records: running processes, simulated networks of sandboxes
// and host ports. It is empty once every sandbox is removed.
func (r *Runtime) Leftovers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, c := range r.containers {
		if c.status.State == runtime.ContainerRunning {
			out = append(out, "running container "+id)
		}
	}
	for ip := range r.nets {
		out = append(out, "network of "+ip)
	}
	for k := range r.hostPorts {
		out = append(out, "host port "+k)
	}
	r.hostNet.mu.Lock()
	for p := range r.hostNet.listeners {
		out = append(out, fmt.Sprintf("listener on the node's port %d", p))
	}
	r.hostNet.mu.Unlock()
	sort.Strings(out)
	return out
}
