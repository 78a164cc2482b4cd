package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/netns"
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
	update := map[string]string{labelState: string(runtime.SandboxReady)}
	if cfg.HostNetwork {
		update[labelIP] = r.cfg.NodeIP
	} else {
		path, err := netns.Create(r.cfg.NetNSDir, r.netnsName(id))
		if err != nil {
			r.client.ContainerService().Delete(ctx, id)
			return "", fmt.Errorf("run sandbox %s: %w", id, err)
		}
		ip, err := r.net.setup(ctx, id, path)
		if err != nil {
			r.net.teardown(context.WithoutCancel(ctx), id, path)
			netns.Remove(path)
			r.client.ContainerService().Delete(context.WithoutCancel(ctx), id)
			return "", err
		}
		update[labelNetNS], update[labelIP] = path, ip
		if err := r.writeHosts(id, hostname, ip); err != nil {
			r.net.teardown(context.WithoutCancel(ctx), id, path)
			netns.Remove(path)
			r.client.ContainerService().Delete(context.WithoutCancel(ctx), id)
			return "", err
		}
	}
	if err := r.setLabels(ctx, id, update); err != nil {
		if p := update[labelNetNS]; p != "" {
			r.net.teardown(context.WithoutCancel(ctx), id, p)
			netns.Remove(p)
		}
		os.RemoveAll(r.sandboxDir(id))
		r.client.ContainerService().Delete(context.WithoutCancel(ctx), id)
		return "", err
	}
	r.cfg.Logger.Info("sandbox ready", "sandbox", id, "pod", cfg.Namespace+"/"+cfg.Name, "ip", update[labelIP])
	return id, nil
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
		ID:          c.ID,
		Name:        c.Labels[runtime.LabelPodName],
		Namespace:   c.Labels[runtime.LabelPodNamespace],
		UID:         c.Labels[runtime.LabelPodUID],
		Attempt:     uint32(attempt),
		State:       runtime.SandboxState(c.Labels[labelState]),
		IP:          c.Labels[labelIP],
		HostNetwork: c.Labels[labelHostNet] == "true",
		NetNS:       c.Labels[labelNetNS],
		CreatedAt:   c.CreatedAt,
		Labels:      publicLabels(c.Labels),
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
	if rec.Labels[labelState] == string(runtime.SandboxNotReady) && p == "" {
		return nil
	}
	if p != "" {
		if err := r.net.teardown(ctx, id, p); err != nil {
			return err
		}
		if err := netns.Remove(p); err != nil {
			return fmt.Errorf("stop sandbox %s: %w", id, err)
		}
	}
	return r.setLabels(ctx, id, map[string]string{labelState: string(runtime.SandboxNotReady), labelNetNS: "", labelIP: ""})
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

// sandboxDir holds a sandbox's files (its /etc/hosts).
func (r *Runtime) sandboxDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "sandboxes", r.cfg.Namespace, id)
}

// writeHosts writes the /etc/hosts the sandbox's containers see.
func (r *Runtime) writeHosts(id, hostname, ip string) error {
	dir := r.sandboxDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run sandbox %s: %w", id, err)
	}
	hosts := fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", ip, hostname)
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts), 0o644); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("run sandbox %s: %w", id, err)
	}
	return nil
}

// sandboxSpecOpts joins a container to its sandbox's namespaces and gives
// it the sandbox's /etc/hosts and the node's /etc/resolv.conf.
func (r *Runtime) sandboxSpecOpts(rec containers.Container) []oci.SpecOpts {
	opts := []oci.SpecOpts{oci.WithHostname(rec.Labels[labelHostname]), oci.WithHostResolvconf}
	if rec.Labels[labelHostNet] == "true" {
		return append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostHostsFile)
	}
	hosts := filepath.Join(r.sandboxDir(rec.ID), "hosts")
	return append(opts,
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: rec.Labels[labelNetNS]}),
		oci.WithMounts([]specs.Mount{{Destination: "/etc/hosts", Type: "bind", Source: hosts, Options: []string{"rbind", "ro"}}}),
	)
}
