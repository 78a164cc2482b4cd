package kubelet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/store"
)

// orphanGrace is the grace period of containers whose pod is gone from the
// apiserver (deleted while the kubelet was down, or force-deleted).
const orphanGrace = 2 * time.Second

// syncPod brings the runtime in line with one pod and reports the pod's
// status; it is the reconcile function of the pod workers (one key is
// never synced by two workers at once).
func (k *Kubelet) syncPod(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := k.log.With("pod", req.String())
	pod, ok := k.inf.Get(req.Namespace, req.Name)
	if !ok {
		k.releaseObjectsOf(req, "")
		// Gone from the apiserver: remove what the runtime still holds.
		sbs, err := k.sandboxesOf(ctx, req.Namespace, req.Name)
		if err != nil {
			return reconcile.Result{}, err
		}
		for _, sb := range sbs {
			log.Info("removing the sandbox of a pod that no longer exists", "sandbox", sb.ID)
			k.stopProbes(sb.UID)
			if err := k.removeSandbox(ctx, sb, orphanGrace); err != nil {
				return reconcile.Result{}, err
			}
			k.forget(sb.UID)
			k.releaseObjects(sb.UID)
			if err := k.forgetVolumes(sb.UID); err != nil {
				return reconcile.Result{}, err
			}
		}
		return reconcile.Result{}, nil
	}
	pod = pod.DeepCopy()
	k.releaseObjectsOf(req, string(pod.UID))
	rs, err := k.observe(ctx, pod)
	if err != nil {
		return reconcile.Result{}, err
	}
	for _, sb := range rs.stale {
		if err := k.removeSandbox(ctx, sb, orphanGrace); err != nil {
			return reconcile.Result{}, err
		}
	}
	if pod.DeletionTimestamp != nil {
		k.stopProbes(string(pod.UID))
		return reconcile.Result{}, k.terminate(ctx, pod, rs)
	}
	if pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed {
		// Finished: nothing runs again; the network goes.
		k.stopProbes(string(pod.UID))
		k.releaseObjects(string(pod.UID))
		if rs.sandbox != nil && rs.sandbox.State == runtime.SandboxReady {
			if err := k.stopAll(ctx, pod, rs, 0, false); err != nil {
				return reconcile.Result{}, err
			}
			return reconcile.Result{}, k.rt.StopSandbox(ctx, rs.sandbox.ID)
		}
		return reconcile.Result{}, nil
	}
	if reason, msg := k.admit(pod); reason != "" {
		k.ev.pod(ctx, pod, eventWarning, reason, msg)
		st := pod.Status
		st.Phase, st.Reason, st.Message = api.PodFailed, reason, msg
		return reconcile.Result{}, k.writeStatus(ctx, pod, st)
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && pod.Status.StartTime != nil &&
		!k.cfg.Clock.Now().Before(pod.Status.StartTime.Add(time.Duration(*d)*time.Second)) {
		k.ev.pod(ctx, pod, eventNormal, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
		if err := k.stopAll(ctx, pod, rs, k.gracePeriod(pod), true); err != nil {
			return reconcile.Result{}, err
		}
		if rs, err = k.observe(ctx, pod); err != nil {
			return reconcile.Result{}, err
		}
		st := k.podStatus(pod, rs)
		st.Phase, st.Reason, st.Message = api.PodFailed, "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
		return reconcile.Result{}, k.writeStatus(ctx, pod, st)
	}
	// Synced again when the relist sees its containers change, when the
	// pod or an object it uses changes, when a back-off or deadline ends,
	// and at the latest after ResyncPeriod.
	next := k.cfg.ResyncPeriod
	if rs.sandbox == nil || rs.sandbox.State != runtime.SandboxReady {
		if err := k.runSandbox(ctx, pod, &rs); err != nil {
			k.setWaiting(pod, "", nil)
			st := k.podStatus(pod, rs)
			if werr := k.writeStatus(ctx, pod, st); werr != nil {
				return reconcile.Result{}, errors.Join(err, werr)
			}
			return reconcile.Result{}, err
		}
	}
	if err := k.setupVolumes(ctx, pod, rs.sandbox); err != nil {
		// The containers wait in ContainerCreating (FailedMount); the
		// mount is tried again after SyncPeriod.
		return reconcile.Result{RequeueAfter: k.cfg.SyncPeriod}, k.writeStatus(ctx, pod, k.podStatus(pod, rs))
	}
	if d := k.runContainers(ctx, pod, rs); d > 0 && d < next {
		next = d
	}
	if rs, err = k.observe(ctx, pod); err != nil {
		return reconcile.Result{}, err
	}
	k.syncProbes(pod, rs)
	st := k.podStatus(pod, rs)
	if err := k.writeStatus(ctx, pod, st); err != nil {
		return reconcile.Result{}, err
	}
	if st.Phase == api.PodSucceeded || st.Phase == api.PodFailed {
		return reconcile.Result{}, nil
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && st.StartTime != nil {
		if left := st.StartTime.Add(time.Duration(*d) * time.Second).Sub(k.cfg.Clock.Now()); left < next {
			next = max(left, time.Millisecond)
		}
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

// runSandbox removes a sandbox that is not ready and starts a new one (the
// next attempt), as Kubernetes does when a pod's sandbox dies: its
// containers start again in the new one.
func (k *Kubelet) runSandbox(ctx context.Context, pod *api.Pod, rs *runtimeState) error {
	var attempt uint32
	if rs.sandbox != nil {
		attempt = rs.sandbox.Attempt + 1
		if err := k.removeSandbox(ctx, *rs.sandbox, 0); err != nil {
			return err
		}
		k.ev.pod(ctx, pod, eventNormal, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
	}
	cfg, err := k.sandboxConfig(pod, attempt)
	if err == nil {
		_, err = k.rt.RunSandbox(ctx, cfg)
	}
	if err != nil {
		k.ev.pod(ctx, pod, eventWarning, "FailedCreatePodSandBox", fmt.Sprintf("Failed to create pod sandbox: %v", err))
		return fmt.Errorf("pod %s: running its sandbox: %w", podKey(pod), err)
	}
	n, err := k.observe(ctx, pod)
	if err != nil {
		return err
	}
	*rs = n
	return nil
}

// runContainers starts the init containers in order, then the app
// containers, restarting exited ones as the restart policy and the
// back-off allow. It returns how soon the pod should be synced again for a
// back-off to end (0: no back-off pending).
func (k *Kubelet) runContainers(ctx context.Context, pod *api.Pod, rs runtimeState) time.Duration {
	var soonest time.Duration
	wait := func(d time.Duration) {
		if d > 0 && (soonest == 0 || d < soonest) {
			soonest = d
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		rec := rs.containers[c.Name]
		switch {
		case rec == nil:
			wait(k.startContainer(ctx, pod, rs.sandbox, c, nil))
			return soonest
		case rec.latest.State != runtime.ContainerExited:
			if rec.latest.State == runtime.ContainerCreated {
				k.startCreated(ctx, pod, c, rec.latest.ID)
			}
			return soonest
		case rec.latest.ExitCode == 0:
			continue
		case pod.Spec.RestartPolicy == api.RestartPolicyNever:
			return soonest // the pod fails (podStatus)
		default:
			wait(k.restart(ctx, pod, rs.sandbox, c, rec))
			return soonest
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		rec := rs.containers[c.Name]
		wg.Go(func() {
			var d time.Duration
			switch {
			case rec == nil:
				d = k.startContainer(ctx, pod, rs.sandbox, c, nil)
			case rec.latest.State == runtime.ContainerCreated:
				k.startCreated(ctx, pod, c, rec.latest.ID)
			case rec.latest.State == runtime.ContainerExited && shouldRestart(pod.Spec.RestartPolicy, rec.latest.ExitCode):
				d = k.restart(ctx, pod, rs.sandbox, c, rec)
			}
			mu.Lock()
			wait(d)
			mu.Unlock()
		})
	}
	wg.Wait()
	return soonest
}

// shouldRestart applies a pod's restart policy to an exited container.
func shouldRestart(p api.RestartPolicy, exitCode int) bool {
	switch p {
	case api.RestartPolicyNever:
		return false
	case api.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return true
}

// terminate stops a pod being deleted: every container gets SIGTERM and
// the pod's grace period, then the kill; the sandbox goes; then the
// kubelet deletes the pod for good (grace 0, with the pod's UID as
// precondition, so a new pod of the same name is never deleted).
func (k *Kubelet) terminate(ctx context.Context, pod *api.Pod, rs runtimeState) error {
	grace := k.gracePeriod(pod)
	k.forget(string(pod.UID))
	if rs.sandbox != nil {
		grace = k.preStop(ctx, pod, rs, grace)
		if err := k.stopAll(ctx, pod, rs, grace, true); err != nil {
			return err
		}
		// The final status, as Kubernetes writes it before the pod goes:
		// every container terminated with its exit code, and a terminal
		// phase.
		if stopped, err := k.observe(ctx, pod); err == nil {
			st := k.podStatus(pod, stopped)
			st.Phase = api.PodSucceeded
			for _, cs := range st.ContainerStatuses {
				if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
					st.Phase = api.PodFailed
				}
			}
			if err := k.writeStatus(ctx, pod, st); err != nil {
				k.log.Warn("writing the final status", "pod", podKey(pod), "err", err)
			}
		}
		if err := k.removeSandbox(ctx, *rs.sandbox, 0); err != nil {
			return err
		}
	}
	k.forget(string(pod.UID))
	k.releaseObjects(string(pod.UID))
	if err := k.forgetVolumes(string(pod.UID)); err != nil {
		return err
	}
	err := k.cfg.Client.Pods().DeleteNow(ctx, pod.Namespace, pod.Name, store.WithPreconditionUID(pod.UID))
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("pod %s: final delete: %w", podKey(pod), err)
	}
	k.log.Info("pod terminated and deleted", "pod", podKey(pod))
	return nil
}

// gracePeriod is how long a stopping pod's containers get after SIGTERM:
// the deletion's grace period while the pod is being deleted, else its
// terminationGracePeriodSeconds.
func (k *Kubelet) gracePeriod(pod *api.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// stopAll stops every running container of the pod at once, each with
// grace; events says whether to report Killing.
func (k *Kubelet) stopAll(ctx context.Context, pod *api.Pod, rs runtimeState, grace time.Duration, events bool) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(rs.containers))
	for name, rec := range rs.containers {
		if rec.latest.State == runtime.ContainerExited {
			continue
		}
		if events {
			k.ev.pod(ctx, pod, eventNormal, "Killing", fmt.Sprintf("Stopping container %s", name))
		}
		wg.Go(func() {
			if err := k.rt.StopContainer(ctx, rec.latest.ID, grace); err != nil && !isNotFound(err) {
				errs <- fmt.Errorf("pod %s: stopping container %s: %w", podKey(pod), name, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// removeSandbox stops sb's containers with grace and removes the sandbox.
func (k *Kubelet) removeSandbox(ctx context.Context, sb runtime.SandboxStatus, grace time.Duration) error {
	cs, err := k.rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sb.ID})
	if err != nil && !isNotFound(err) {
		return err
	}
	var wg sync.WaitGroup
	for _, c := range cs {
		if c.State == runtime.ContainerExited {
			continue
		}
		wg.Go(func() { _ = k.rt.StopContainer(ctx, c.ID, grace) })
	}
	wg.Wait()
	if err := k.rt.RemoveSandbox(ctx, sb.ID); err != nil && !isNotFound(err) {
		return fmt.Errorf("removing sandbox %s: %w", sb.ID, err)
	}
	return nil
}
