package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/netns"
	"github.com/setpoint-dev/setpoint/runtime/internal/podfiles"
)

// netnsName is the file name of a sandbox's network namespace.
func (r *Runtime) netnsName(id string) string { return "setpoint-" + r.cfg.Namespace + "-" + id }

// RunSandbox records the sandbox in containerd, creates its network
// namespace and attaches it through CNI. On failure everything it made is
// removed again.
func (r *Runtime) RunSandbox(ctx context.Context, cfg runtime.SandboxConfig) (_ string, err error) {
	defer r.observe("run_sandbox", time.Now(), &err)
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("run sandbox: %w", err)
	}
	ctx = r.ctx(ctx)
	id := runtime.SandboxID(cfg)
	defer r.locks.lock(id)()
	hostname := cfg.Hostname
	if hostname == "" && cfg.HostNetwork {
		hostname, _ = os.Hostname()
	}
	if hostname == "" {
		hostname = strings.TrimRight(cfg.Name[:min(len(cfg.Name), 63)], "-.")
	}
	labels := runtime.SandboxLabels(cfg)
	labels[labelKind] = kindSandbox
	labels[labelState] = string(runtime.SandboxNotReady)
	labels[labelHostname] = hostname
	if cfg.HostNetwork {
		labels[labelHostNet] = "true"
	}
	if cfg.DNS != nil {
		labels[labelDNS] = "true"
	}
	if len(cfg.PortMappings) > 0 {
		if !cfg.HostNetwork && !r.net.portMappings {
			return "", fmt.Errorf("%w: run sandbox %s: portMappings need a CNI plugin with the portMappings capability (portmap) in network %s", runtime.ErrUnavailable, id, r.net.pods.Name)
		}
		b, err := json.Marshal(cfg.PortMappings)
		if err != nil {
			return "", err
		}
		labels[labelPorts] = string(b)
		// Hold the ports from the check until the record claims them.
		r.portsMu.Lock()
		defer r.portsMu.Unlock()
		if err := r.checkHostPorts(ctx, id, cfg.PortMappings); err != nil {
			return "", err
		}
	}
	spec, err := typeurl.MarshalAnyToProto(&specs.Spec{Version: specs.Version, Hostname: hostname})
	if err != nil {
		return "", err
	}
	// Creating the record first makes containerd arbitrate duplicates.
	rec := containers.Container{ID: id, Labels: labels, Runtime: containers.RuntimeInfo{Name: shimRuntime}, Spec: spec}
	if _, err := r.client.ContainerService().Create(ctx, rec); err != nil {
		if errdefs.IsAlreadyExists(err) {
			return "", fmt.Errorf("%w: sandbox %s for pod %s/%s (uid %s, attempt %d)", runtime.ErrAlreadyExists, id, cfg.Namespace, cfg.Name, cfg.UID, cfg.Attempt)
		}
		return "", convert(err, "run sandbox "+id)
	}
	cctx := context.WithoutCancel(ctx)
	update := map[string]string{labelState: string(runtime.SandboxReady)}
	var nsPath string
	fail := func(err error) (string, error) {
		if nsPath != "" {
			r.net.teardown(cctx, id, nsPath, cfg.PortMappings)
			netns.Remove(nsPath)
		}
		os.RemoveAll(r.sandboxDir(id))
		r.client.ContainerService().Delete(cctx, id)
		return "", err
	}
	ip := r.cfg.NodeIP
	if !cfg.HostNetwork {
		path, err := netns.Create(r.cfg.NetNSDir, r.netnsName(id))
		if err != nil {
			return fail(fmt.Errorf("run sandbox %s: %w", id, err))
		}
		nsPath = path
		if ip, err = r.net.setup(ctx, id, path, cfg.PortMappings); err != nil {
			return fail(err)
		}
		update[labelNetNS] = path
	}
	update[labelIP] = ip
	if err := r.writeFiles(id, hostname, ip, cfg); err != nil {
		return fail(err)
	}
	if err := r.setLabels(ctx, id, update); err != nil {
		return fail(err)
	}
	r.cfg.Logger.Info("sandbox ready", "sandbox", id, "pod", cfg.Namespace+"/"+cfg.Name, "ip", ip)
	return id, nil
}

// checkHostPorts fails when a sandbox that is not stopped holds one of
// ports. r.portsMu must be held.
func (r *Runtime) checkHostPorts(ctx context.Context, id string, ports []runtime.PortMapping) error {
	cs, err := r.client.ContainerService().List(ctx, fmt.Sprintf(`labels.%q==%s`, labelKind, kindSandbox))
	if err != nil {
		return convert(err, "run sandbox "+id+": list host ports")
	}
	for _, c := range cs {
		if c.Labels[labelPorts] == "" || c.Labels[labelStopped] == "true" {
			continue
		}
		for i, p := range ports {
			for _, q := range portMappings(c.Labels) {
				if p.Conflicts(q) {
					return fmt.Errorf("%w: run sandbox %s: portMappings[%d]: host port %s is held by sandbox %s (pod %s/%s)",
						runtime.ErrAlreadyExists, id, i, p.Key(), c.ID, c.Labels[runtime.LabelPodNamespace], c.Labels[runtime.LabelPodName])
				}
			}
		}
	}
	return nil
}

func portMappings(labels map[string]string) []runtime.PortMapping {
	var out []runtime.PortMapping
	if s := labels[labelPorts]; s != "" {
		json.Unmarshal([]byte(s), &out)
	}
	return out
}

// setLabels sets (or, for empty values, deletes) labels of a record.
func (r *Runtime) setLabels(ctx context.Context, id string, labels map[string]string) error {
	c := containers.Container{ID: id, Labels: labels}
	var paths []string
	for k := range labels {
		paths = append(paths, "labels."+k)
	}
	if _, err := r.client.ContainerService().Update(ctx, c, paths...); err != nil {
		return convert(err, "update "+id)
	}
	return nil
}

func (r *Runtime) sandboxRecord(ctx context.Context, id string) (containers.Container, error) {
	if id == "" {
		return containers.Container{}, &runtime.FieldError{Field: "id", Reason: "is required"}
	}
	c, err := r.client.ContainerService().Get(ctx, id)
	if err != nil || c.Labels[labelKind] != kindSandbox {
		if err == nil || errdefs.IsNotFound(err) {
			return containers.Container{}, fmt.Errorf("%w: sandbox %s", runtime.ErrNotFound, id)
		}
		return containers.Container{}, convert(err, "sandbox "+id)
	}
	return c, nil
}

func sandboxStatus(c containers.Container) runtime.SandboxStatus {
	attempt, _ := strconv.ParseUint(c.Labels[runtime.LabelAttempt], 10, 32)
	return runtime.SandboxStatus{
		ID:           c.ID,
		Name:         c.Labels[runtime.LabelPodName],
		Namespace:    c.Labels[runtime.LabelPodNamespace],
		UID:          c.Labels[runtime.LabelPodUID],
		Attempt:      uint32(attempt),
		State:        runtime.SandboxState(c.Labels[labelState]),
		IP:           c.Labels[labelIP],
		HostNetwork:  c.Labels[labelHostNet] == "true",
		Hostname:     c.Labels[labelHostname],
		PortMappings: portMappings(c.Labels),
		NetNS:        c.Labels[labelNetNS],
		CreatedAt:    c.CreatedAt,
		Labels:       publicLabels(c.Labels),
	}
}

func publicLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		if !strings.HasPrefix(k, internalPrefix) {
			out[k] = v
		}
	}
	return out
}

// SandboxStatus reports the sandbox.
func (r *Runtime) SandboxStatus(ctx context.Context, id string) (_ runtime.SandboxStatus, err error) {
	defer r.observe("sandbox_status", time.Now(), &err)
	c, err := r.sandboxRecord(r.ctx(ctx), id)
	if err != nil {
		return runtime.SandboxStatus{}, err
	}
	return sandboxStatus(c), nil
}

// ListSandboxes reports the sandboxes matching f.
func (r *Runtime) ListSandboxes(ctx context.Context, f runtime.SandboxFilter) (_ []runtime.SandboxStatus, err error) {
	defer r.observe("list_sandboxes", time.Now(), &err)
	filter := fmt.Sprintf(`labels.%q==%s`, labelKind, kindSandbox)
	if f.ID != "" {
		filter += fmt.Sprintf(`,id==%q`, f.ID)
	}
	// The labels are matched by containerd too, so that listing one pod's
	// sandboxes does not read every sandbox of the node (f.Match below
	// still decides).
	for k, v := range f.Labels {
		if !strings.HasPrefix(k, internalPrefix) {
			filter += fmt.Sprintf(`,labels.%q==%q`, k, v)
		}
	}
	cs, err := r.client.ContainerService().List(r.ctx(ctx), filter)
	if err != nil {
		return nil, convert(err, "list sandboxes")
	}
	var out []runtime.SandboxStatus
	for _, c := range cs {
		if s := sandboxStatus(c); f.Match(s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StopSandbox stops the sandbox's containers within Config.StopGrace, tears
// its network down and removes its namespace. Stopping a stopped sandbox
// does nothing.
func (r *Runtime) StopSandbox(ctx context.Context, id string) (err error) {
	defer r.observe("stop_sandbox", time.Now(), &err)
	ctx = r.ctx(ctx)
	defer r.locks.lock(id)()
	return r.stopSandbox(ctx, id)
}

func (r *Runtime) stopSandbox(ctx context.Context, id string) error {
	rec, err := r.sandboxRecord(ctx, id)
	if err != nil {
		return err
	}
	ctrs, err := r.ListContainers(ctx, runtime.ContainerFilter{SandboxID: id})
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if err := r.StopContainer(ctx, c.ID, r.cfg.StopGrace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("stop sandbox %s: %w", id, err)
		}
	}
	p := rec.Labels[labelNetNS]
	if p == "" && rec.Labels[labelHostNet] != "true" {
		// A runtime that died inside RunSandbox may have left the namespace
		// before recording it: look where it would be.
		if guess := filepath.Join(r.cfg.NetNSDir, r.netnsName(id)); netns.IsNetNS(guess) {
			p = guess
		}
	}
	if rec.Labels[labelStopped] == "true" && p == "" {
		return nil
	}
	if p != "" {
		if err := r.net.teardown(ctx, id, p, portMappings(rec.Labels)); err != nil {
			return err
		}
		if err := netns.Remove(p); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", id, err)
		}
	}
	return r.setLabels(ctx, id, map[string]string{labelState: string(runtime.SandboxNotReady), labelNetNS: "", labelIP: "", labelStopped: "true"})
}

// RemoveSandbox stops the sandbox, removes its containers and their logs,
// and deletes it.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) (err error) {
	defer r.observe("remove_sandbox", time.Now(), &err)
	ctx = r.ctx(ctx)
	defer r.locks.lock(id)()
	if err := r.stopSandbox(ctx, id); err != nil {
		return err
	}
	rec, err := r.sandboxRecord(ctx, id)
	if err != nil {
		return err
	}
	ctrs, err := r.ListContainers(ctx, runtime.ContainerFilter{SandboxID: id})
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if err := r.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("remove sandbox %s: %w", id, err)
		}
	}
	if err := r.unmountVolumes(id); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", id, err)
	}
	os.RemoveAll(r.podLogDir(sandboxStatus(rec)))
	os.RemoveAll(r.sandboxDir(id))
	if err := r.client.ContainerService().Delete(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return convert(err, "remove sandbox "+id)
	}
	return nil
}

func (r *Runtime) podLogDir(sb runtime.SandboxStatus) string {
	return filepath.Join(r.cfg.LogDir, fmt.Sprintf("%s_%s_%s_%d", sb.Namespace, sb.Name, sb.UID, sb.Attempt))
}

// sandboxDir holds a sandbox's files: its /etc/hostname, /etc/hosts and
// /etc/resolv.conf, and its tmpfs volumes.
func (r *Runtime) sandboxDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "sandboxes", r.cfg.Namespace, id)
}

// writeFiles writes the files the sandbox's containers see.
func (r *Runtime) writeFiles(id, hostname, ip string, cfg runtime.SandboxConfig) error {
	dir := r.sandboxDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run sandbox %s: %w", id, err)
	}
	files := map[string][]byte{"hostname": podfiles.Hostname(hostname)}
	if !cfg.HostNetwork {
		files["hosts"] = podfiles.Hosts(hostname, ip)
	}
	if cfg.DNS != nil {
		files["resolv.conf"] = podfiles.ResolvConf(*cfg.DNS)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("run sandbox %s: %w", id, err)
		}
	}
	return nil
}

// SandboxStats reads the counters of the sandbox's interfaces from inside
// its network namespace.
func (r *Runtime) SandboxStats(ctx context.Context, id string) (_ runtime.SandboxStats, err error) {
	defer r.observe("sandbox_stats", time.Now(), &err)
	rec, err := r.sandboxRecord(r.ctx(ctx), id)
	if err != nil {
		return runtime.SandboxStats{}, err
	}
	sb := sandboxStatus(rec)
	if sb.State != runtime.SandboxReady {
		return runtime.SandboxStats{}, fmt.Errorf("%w: stats of sandbox %s: it is %s", runtime.ErrFailedPrecondition, id, sb.State)
	}
	out := runtime.SandboxStats{Timestamp: time.Now().UTC()}
	if sb.HostNetwork {
		return out, nil
	}
	ifaces, err := netns.Stats(sb.NetNS)
	if err != nil {
		return runtime.SandboxStats{}, fmt.Errorf("stats of sandbox %s: %w", id, err)
	}
	for _, i := range ifaces {
		if i.Name != "lo" {
			out.Interfaces = append(out.Interfaces, runtime.InterfaceStats{Name: i.Name, RxBytes: i.RxBytes, TxBytes: i.TxBytes, RxErrors: i.RxErrors, TxErrors: i.TxErrors})
		}
	}
	return out, nil
}
