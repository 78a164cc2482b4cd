package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
)

// Version is the kubelet version reported in nodeInfo.
const Version = "v1.32.0-setpoint"

// allocatable is the node's capacity less SystemReserved.
func (k *Kubelet) allocatable() api.ResourceList {
	capacity := k.capacity()
	out := api.ResourceList{}
	for name, q := range capacity {
		if r, ok := k.cfg.SystemReserved[name]; ok {
			q = q.Sub(r)
			if q.Sign() < 0 {
				q = api.NewQuantity(0, api.DecimalSI)
			}
		}
		out[name] = q
	}
	return out
}

// capacity is Config.Capacity completed from the machine.
func (k *Kubelet) capacity() api.ResourceList {
	out := api.ResourceList{}
	for name, q := range k.cfg.Capacity {
		out[name] = q
	}
	if _, ok := out[api.ResourceCPU]; !ok {
		out[api.ResourceCPU] = api.NewQuantity(int64(goruntime.NumCPU()), api.DecimalSI)
	}
	if _, ok := out[api.ResourceMemory]; !ok {
		if m, err := meminfo("MemTotal"); err == nil {
			out[api.ResourceMemory] = api.NewQuantity(m, api.BinarySI)
		}
	}
	if _, ok := out[api.ResourcePods]; !ok {
		out[api.ResourcePods] = api.NewQuantity(DefaultMaxPods, api.DecimalSI)
	}
	return out
}

// registerNode creates the Node, or updates the status of the one that
// exists (a restarted kubelet).
func (k *Kubelet) registerNode(ctx context.Context) error {
	nodes := k.cfg.Client.Nodes()
	node := &api.Node{}
	node.Name = k.cfg.NodeName
	node.Labels = map[string]string{"kubernetes.io/hostname": k.cfg.NodeName, "kubernetes.io/os": goruntime.GOOS,
		"kubernetes.io/arch": goruntime.GOARCH}
	for key, v := range k.cfg.Labels {
		node.Labels[key] = v
	}
	if k.cfg.PodCIDR != "" {
		node.Spec.PodCIDR, node.Spec.PodCIDRs = k.cfg.PodCIDR, []string{k.cfg.PodCIDR}
	}
	node.Status = k.nodeStatus(ctx, nil)
	_, err := nodes.Create(ctx, node)
	if err == nil {
		k.log.Info("node registered")
		return nil
	}
	if !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("kubelet: registering node %s: %w", k.cfg.NodeName, err)
	}
	if err := k.updateNodeStatus(ctx, true); err != nil {
		return fmt.Errorf("kubelet: registering node %s: %w", k.cfg.NodeName, err)
	}
	return nil
}

// nodeStatus computes the node's status; old (may be nil) gives the
// conditions' transition times.
func (k *Kubelet) nodeStatus(ctx context.Context, old *api.NodeStatus) api.NodeStatus {
	now := store.NewTime(k.cfg.Clock.Now())
	st := api.NodeStatus{Capacity: k.capacity(), Allocatable: k.allocatable(), Phase: api.NodeRunning}
	if k.cfg.NodeIP != "" {
		st.Addresses = append(st.Addresses, api.NodeAddress{Type: api.NodeInternalIP, Address: k.cfg.NodeIP})
	}
	st.Addresses = append(st.Addresses, api.NodeAddress{Type: api.NodeHostName, Address: k.cfg.NodeName})
	st.DaemonEndpoints.KubeletEndpoint.Port = int32(k.ServerPort())
	st.NodeInfo = api.NodeSystemInfo{KubeletVersion: Version, OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
		ContainerRuntimeVersion: "containerd://", KernelVersion: kernelVersion(), MachineID: readTrim("/etc/machine-id"),
		BootID: readTrim("/proc/sys/kernel/random/boot_id"), OSImage: osImage()}
	if imgs, err := k.rt.ListImages(ctx); err == nil {
		for _, img := range imgs {
			names := []string{img.Name}
			if img.Digest != "" {
				names = append(names, img.Name+"@"+img.Digest)
			}
			st.Images = append(st.Images, api.ContainerImage{Names: names, SizeBytes: img.Size})
		}
	}
	p := measurePressure()
	cond := func(t api.NodeConditionType, status bool, reason, msg string) {
		c := api.NodeCondition{Type: t, Status: api.ConditionFalse, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
		if status {
			c.Status = api.ConditionTrue
		}
		if old != nil {
			for _, o := range old.Conditions {
				if o.Type == t && o.Status == c.Status {
					c.LastTransitionTime = o.LastTransitionTime
				}
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	cond(api.NodeMemoryPressure, p.memory, p.memoryReason(), p.memoryMessage())
	cond(api.NodeDiskPressure, p.disk, p.diskReason(), p.diskMessage())
	cond(api.NodePIDPressure, p.pid, p.pidReason(), p.pidMessage())
	cond(api.NodeReady, true, "KubeletReady", "kubelet is posting ready status")
	return st
}

// nodeStatusUpdateRetry is how many times a node status write is tried
// when another writer (node IPAM, the node lifecycle controller) changed
// the Node between its read and its write: Kubernetes' kubelet tries 5.
const nodeStatusUpdateRetry = 5

// updateNodeStatus writes the node's status through nodes/status when it
// changed (heartbeat times aside) or when force is set, reading the Node
// again and retrying on a conflict (409) up to nodeStatusUpdateRetry
// times.
func (k *Kubelet) updateNodeStatus(ctx context.Context, force bool) error {
	var err error
	for range nodeStatusUpdateRetry {
		if err = k.tryUpdateNodeStatus(ctx, force); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("after %d tries: %w", nodeStatusUpdateRetry, err)
}

// tryUpdateNodeStatus is one read and write of updateNodeStatus.
func (k *Kubelet) tryUpdateNodeStatus(ctx context.Context, force bool) error {
	nodes := k.cfg.Client.Nodes()
	node, err := nodes.Get(ctx, "", k.cfg.NodeName)
	if err != nil {
		return err
	}
	st := k.nodeStatus(ctx, &node.Status)
	if !force && sameNodeStatus(node.Status, st) {
		return nil
	}
	node.Status = st
	if k.beforeStatusWrite != nil {
		k.beforeStatusWrite()
	}
	if node.Spec.PodCIDR == "" && k.cfg.PodCIDR != "" {
		node.Spec.PodCIDR, node.Spec.PodCIDRs = k.cfg.PodCIDR, []string{k.cfg.PodCIDR}
		if node, err = nodes.Update(ctx, node); err != nil {
			return err
		}
		node.Status = st
	}
	return nodes.Call(ctx, http.MethodPut, "", k.cfg.NodeName, "status", nil, node, nil)
}

// sameNodeStatus compares two node statuses without heartbeat times.
func sameNodeStatus(a, b api.NodeStatus) bool {
	strip := func(s api.NodeStatus) []byte {
		s.Conditions = append([]api.NodeCondition(nil), s.Conditions...)
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime = store.Time{}
		}
		data, _ := json.Marshal(s)
		return data
	}
	return bytes.Equal(strip(a), strip(b))
}

// runNodeStatus writes the node status when it changes (checked every
// NodeStatusCheckInterval) and at least every NodeStatusReportInterval.
func (k *Kubelet) runNodeStatus(ctx context.Context) error {
	last := k.cfg.Clock.Now()
	t := k.cfg.Clock.NewTicker(k.cfg.NodeStatusCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
		k.countRunning(ctx)
		force := k.cfg.Clock.Since(last) >= k.cfg.NodeStatusReportInterval
		if err := k.updateNodeStatus(ctx, force); err != nil {
			if ctx.Err() == nil {
				k.log.Warn("updating the node status", "err", err)
			}
			continue
		}
		if force {
			last = k.cfg.Clock.Now()
		}
	}
}

// runLease keeps the node's Lease in kube-node-lease renewed every
// LeaseRenewInterval, the heartbeat the node lifecycle controller reads.
func (k *Kubelet) runLease(ctx context.Context) error {
	t := k.cfg.Clock.NewTicker(k.cfg.LeaseRenewInterval)
	defer t.Stop()
	for {
		if err := k.renewLease(ctx); err != nil {
			if ctx.Err() == nil {
				k.log.Warn("renewing the node lease", "err", err)
			}
		} else {
			k.health.lastLease.Store(k.cfg.Clock.Now().UnixNano())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
	}
}

// renewLease creates or renews the node Lease.
func (k *Kubelet) renewLease(ctx context.Context) error {
	leases := k.cfg.Client.Leases()
	now := store.NewMicroTime(k.cfg.Clock.Now())
	secs := int32(k.cfg.LeaseDuration / time.Second)
	holder := k.cfg.NodeName
	l, err := leases.Get(ctx, LeaseNamespace, k.cfg.NodeName)
	if isNotFound(err) {
		l = &election.Lease{}
		l.Namespace, l.Name = LeaseNamespace, k.cfg.NodeName
		l.Spec = election.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, RenewTime: &now}
		if _, err = leases.Create(ctx, l); errors.Is(err, store.ErrNotFound) {
			// The namespace is missing: make it, then the Lease.
			ns := &api.Namespace{}
			ns.Name = LeaseNamespace
			if _, err := k.cfg.Client.Namespaces().Create(ctx, ns); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return err
			}
			_, err = leases.Create(ctx, l)
		}
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &secs, &now
	_, err = leases.Update(ctx, l)
	return err
}

// readTrim returns a file's first line, "" when unreadable.
func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(bytes.SplitN(data, []byte("\n"), 2)[0]))
}

// countRunning sets the running pods and containers gauges from the
// runtime.
func (k *Kubelet) countRunning(ctx context.Context) {
	if sbs, err := k.rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady}); err == nil {
		k.met.runningPods.Set(float64(len(sbs)))
	}
	if cs, err := k.rt.ListContainers(ctx, runtime.ContainerFilter{State: runtime.ContainerRunning}); err == nil {
		k.met.runningContainers.Set(float64(len(cs)))
	}
}
