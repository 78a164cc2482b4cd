package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
)

// containerIDPrefix is the scheme of containerID fields ("<runtime>://<id>").
const containerIDPrefix = "containerd://"

// podStatus computes a pod's status from what the runtime holds, as
// Kubernetes' kubelet does: container statuses, phase, conditions, IPs,
// start time and QoS class. Conditions the kubelet does not own are kept.
func (k *Kubelet) podStatus(pod *api.Pod, rs runtimeState) api.PodStatus {
	old := pod.Status
	st := api.PodStatus{Phase: old.Phase, NominatedNodeName: old.NominatedNodeName, StartTime: old.StartTime, QOSClass: qosClass(pod)}
	now := store.NewTime(k.cfg.Clock.Now())
	if st.StartTime == nil {
		st.StartTime = &now
	}
	if k.cfg.NodeIP != "" {
		st.HostIP, st.HostIPs = k.cfg.NodeIP, []api.HostIP{{IP: k.cfg.NodeIP}}
	}
	sandboxReady := rs.sandbox != nil && rs.sandbox.State == runtime.SandboxReady
	if sandboxReady && rs.sandbox.IP != "" {
		st.PodIP, st.PodIPs = rs.sandbox.IP, []api.PodIP{{IP: rs.sandbox.IP}}
	}
	initDone := true
	initFailed := false
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := k.containerStatus(pod, c, rs.containers[c.Name], reasonContainerCreating)
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
			initDone = false
			if t != nil && pod.Spec.RestartPolicy == api.RestartPolicyNever {
				initFailed = true
			}
		}
	}
	waitReason := reasonContainerCreating
	if !initDone {
		waitReason = reasonPodInitializing
	}
	var unready []string
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := k.containerStatus(pod, c, rs.containers[c.Name], waitReason)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		if !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	st.Phase = phase(pod, st, initDone, initFailed)
	terminal := st.Phase == api.PodSucceeded || st.Phase == api.PodFailed
	cond := func(t api.PodConditionType, ok bool, reason, msg string) {
		c := api.PodCondition{Type: t, Status: api.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: now}
		if ok {
			c.Status, c.Reason, c.Message = api.ConditionTrue, "", ""
		}
		for _, o := range old.Conditions {
			if o.Type == t && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	cond(api.PodReadyToStartContainers, sandboxReady, "", "")
	initMsg := ""
	if !initDone {
		var names []string
		for _, cs := range st.InitContainerStatuses {
			if t := cs.State.Terminated; t == nil || t.ExitCode != 0 {
				names = append(names, cs.Name)
			}
		}
		initMsg = fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(names, " "))
	}
	cond(api.PodInitialized, initDone, "ContainersNotInitialized", initMsg)
	readyReason, readyMsg := "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	if terminal {
		readyReason, readyMsg = "PodCompleted", ""
	}
	ready := len(unready) == 0 && !terminal
	cond(api.ContainersReady, ready, readyReason, readyMsg)
	cond(api.PodReady, ready, readyReason, readyMsg)
	cond(api.PodScheduled, true, "", "")
	// Conditions of other owners (readiness gates, DisruptionTarget...)
	// stay.
	for _, o := range old.Conditions {
		switch o.Type {
		case api.PodReadyToStartContainers, api.PodInitialized, api.ContainersReady, api.PodReady, api.PodScheduled:
		default:
			st.Conditions = append(st.Conditions, o)
		}
	}
	return st
}

// containerStatus reports one container from its runtime record and the
// kubelet's waiting reason.
func (k *Kubelet) containerStatus(pod *api.Pod, c *api.Container, rec *containerRecord, waitReason string) api.ContainerStatus {
	cs := api.ContainerStatus{Name: c.Name, Image: c.Image}
	started := false
	cs.Started = &started
	w := k.waitingOf(pod, c.Name)
	if rec == nil {
		if w == nil {
			w = &api.ContainerStateWaiting{Reason: waitReason}
		}
		cs.State.Waiting = w
		return cs
	}
	l := rec.latest
	cs.RestartCount = int32(l.Attempt)
	cs.ImageID, cs.ContainerID = l.ImageID, containerIDPrefix+l.ID
	if rec.previous != nil && rec.previous.State == runtime.ContainerExited {
		cs.LastTerminationState.Terminated = k.terminatedOf(pod, c, *rec.previous)
	}
	switch l.State {
	case runtime.ContainerRunning:
		ps := k.probeStateOf(c, l.ID)
		started = ps.started
		cs.Ready = ps.started && ps.ready
		cs.State.Running = &api.ContainerStateRunning{StartedAt: store.NewTime(l.StartedAt)}
	case runtime.ContainerExited:
		if w != nil && w.Reason == reasonCrashLoopBackOff || w != nil && shouldRestart(pod.Spec.RestartPolicy, l.ExitCode) {
			cs.State.Waiting = w
			cs.LastTerminationState = api.ContainerState{Terminated: k.terminatedOf(pod, c, *l)}
		} else {
			cs.State.Terminated = k.terminatedOf(pod, c, *l)
		}
	default:
		if w == nil {
			w = &api.ContainerStateWaiting{Reason: reasonContainerCreating}
		}
		cs.State.Waiting = w
	}
	return cs
}

// terminated reports an exited container.
func terminated(c runtime.ContainerStatus) *api.ContainerStateTerminated {
	return &api.ContainerStateTerminated{ExitCode: int32(c.ExitCode), Reason: c.Reason, StartedAt: store.NewTime(c.StartedAt),
		FinishedAt: store.NewTime(c.FinishedAt), ContainerID: containerIDPrefix + c.ID}
}

// phase is Kubernetes' pod phase rule over the statuses just computed.
func phase(pod *api.Pod, st api.PodStatus, initDone, initFailed bool) api.PodPhase {
	if initFailed {
		return api.PodFailed
	}
	if !initDone {
		return api.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range st.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil:
			stopped++
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return api.PodPending
	case running > 0:
		return api.PodRunning
	case stopped > 0:
		switch pod.Spec.RestartPolicy {
		case api.RestartPolicyAlways:
			return api.PodRunning
		case api.RestartPolicyOnFailure:
			if stopped == succeeded {
				return api.PodSucceeded
			}
			return api.PodRunning
		}
		if stopped == succeeded {
			return api.PodSucceeded
		}
		return api.PodFailed
	}
	return api.PodPending
}

// qosClass is Kubernetes' QoS class: Guaranteed when every container sets
// cpu and memory limits equal to its requests, BestEffort when none sets
// any, else Burstable.
func qosClass(pod *api.Pod) api.PodQOSClass {
	some, guaranteed := false, true
	for _, c := range append(append([]api.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, r := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
				some = true
			}
			if !hasLim || hasReq && !req.Equal(lim) {
				guaranteed = false
			}
		}
	}
	switch {
	case !some:
		return api.PodQOSBestEffort
	case guaranteed:
		return api.PodQOSGuaranteed
	}
	return api.PodQOSBurstable
}

// writeStatus writes st through the pods/status subresource when it
// differs from what the pod has.
func (k *Kubelet) writeStatus(ctx context.Context, pod *api.Pod, st api.PodStatus) error {
	a, err := json.Marshal(pod.Status)
	if err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if bytes.Equal(a, b) {
		return nil
	}
	out := pod.DeepCopy()
	out.Status = st
	// The pod cache may not hold the kubelet's own last write yet: then
	// the status it wrote is what to compare with, and its
	// resourceVersion what to write at (else the write is a conflict).
	uid := string(pod.UID)
	cached, _ := store.ParseRevision(pod.ResourceVersion)
	k.mu.Lock()
	last, ok := k.written[uid]
	k.mu.Unlock()
	if ok && last.rev > cached {
		if bytes.Equal(last.status, b) {
			return nil
		}
		out.ResourceVersion = fmt.Sprint(last.rev)
	}
	var got api.Pod
	if err := k.cfg.Client.Pods().Call(ctx, http.MethodPut, pod.Namespace, pod.Name, "status", nil, out, &got); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("pod %s: writing its status: %w", podKey(pod), err)
	}
	if rev, err := store.ParseRevision(got.ResourceVersion); err == nil {
		k.mu.Lock()
		k.written[uid] = writtenStatus{rev: rev, status: b}
		k.mu.Unlock()
	}
	k.met.statusWrites.Inc()
	if st.Phase == api.PodRunning && pod.Status.Phase != api.PodRunning && st.StartTime != nil {
		k.met.podStart.Observe(k.cfg.Clock.Since(st.StartTime.Time).Seconds())
	}
	return nil
}

// writtenStatus is a status the kubelet wrote: its JSON and the pod's
// resourceVersion after the write.
type writtenStatus struct {
	rev    int64
	status []byte
}
