package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime"
)

// Waiting reasons, as Kubernetes reports them.
const (
	reasonContainerCreating       = "ContainerCreating"
	reasonPodInitializing         = "PodInitializing"
	reasonCrashLoopBackOff        = "CrashLoopBackOff"
	reasonErrImagePull            = "ErrImagePull"
	reasonImagePullBackOff        = "ImagePullBackOff"
	reasonErrImageNeverPull       = "ErrImageNeverPull"
	reasonCreateContainerError    = "CreateContainerError"
	reasonCreateContainerConfigEr = "CreateContainerConfigError"
	reasonRunContainerError       = "RunContainerError"
)

// backoffEntry is the back-off of one container (or its image pull): the
// next attempt waits until delay has passed since last.
type backoffEntry struct {
	delay time.Duration
	last  time.Time
}

// waitingKey, backoffKey: the per-container maps' keys.
func containerKey(pod *api.Pod, name string) string { return string(pod.UID) + "/" + name }

// setWaiting records why a container waits (nil: it does not), for the
// status; name "" clears nothing.
func (k *Kubelet) setWaiting(pod *api.Pod, name string, w *api.ContainerStateWaiting) {
	if name == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.waiting == nil {
		k.waiting = map[string]*api.ContainerStateWaiting{}
	}
	if w == nil {
		delete(k.waiting, containerKey(pod, name))
		return
	}
	k.waiting[containerKey(pod, name)] = w
}

// waitingOf returns why a container waits, if the kubelet recorded it.
func (k *Kubelet) waitingOf(pod *api.Pod, name string) *api.ContainerStateWaiting {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.waiting[containerKey(pod, name)]
}

// forget drops the back-off and waiting state of a pod's containers.
func (k *Kubelet) forget(uid string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.written, uid)
	for key := range k.backoff {
		if len(key) > len(uid) && key[:len(uid)+1] == uid+"/" || len(key) > len(uid)+5 && key[:len(uid)+6] == "pull/"+uid+"/" {
			delete(k.backoff, key)
		}
	}
	for key := range k.waiting {
		if len(key) > len(uid) && key[:len(uid)+1] == uid+"/" {
			delete(k.waiting, key)
		}
	}
}

// inBackoff reports how long key's back-off still runs, counting from
// since (0: none).
func (k *Kubelet) inBackoff(key string, since time.Time) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.backoff[key]
	if e == nil {
		return 0
	}
	left := since.Add(e.delay).Sub(k.cfg.Clock.Now())
	return max(left, 0)
}

// stepBackoff records an attempt of key: the next one waits twice as long
// as the last (from BackoffBase up to BackoffMax).
func (k *Kubelet) stepBackoff(key string) time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	e := k.backoff[key]
	if e == nil {
		e = &backoffEntry{delay: k.cfg.BackoffBase}
		k.backoff[key] = e
	} else {
		e.delay = min(2*e.delay, k.cfg.BackoffMax)
	}
	e.last = k.cfg.Clock.Now()
	return e.delay
}

// resetBackoff forgets key's back-off.
func (k *Kubelet) resetBackoff(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.backoff, key)
}

// restart starts the next attempt of an exited container unless its
// crash-loop back-off runs; then it records CrashLoopBackOff and returns
// how long the back-off still runs.
func (k *Kubelet) restart(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container, rec *containerRecord) time.Duration {
	key := containerKey(pod, c.Name)
	last := rec.latest
	if last.FinishedAt.Sub(last.StartedAt) >= k.cfg.BackoffReset {
		k.resetBackoff(key)
	}
	if left := k.inBackoff(key, last.FinishedAt); left > 0 {
		k.mu.Lock()
		delay := k.backoff[key].delay
		k.mu.Unlock()
		msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pod.Name, pod.Namespace, pod.UID)
		if w := k.waitingOf(pod, c.Name); w == nil || w.Reason != reasonCrashLoopBackOff {
			k.ev.pod(ctx, pod, eventWarning, "BackOff", "Back-off restarting failed container "+c.Name+" in pod "+pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")")
		}
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonCrashLoopBackOff, Message: msg})
		return left
	}
	k.stepBackoff(key)
	return k.startContainer(ctx, pod, sb, c, rec)
}

// startContainer pulls the image as the pull policy says, creates and
// starts the next attempt of c (after rec's latest, if any). A failure is
// recorded as the container's waiting reason, with an event; it returns
// how long an image-pull back-off still runs.
func (k *Kubelet) startContainer(ctx context.Context, pod *api.Pod, sb *runtime.SandboxStatus, c *api.Container, rec *containerRecord) time.Duration {
	img, wait, ok := k.pullImage(ctx, pod, c)
	if !ok {
		return wait
	}
	var attempt uint32
	if rec != nil {
		attempt = rec.latest.Attempt + 1
	}
	cfg, err := k.containerConfig(ctx, pod, sb, c, img, attempt)
	if err != nil {
		k.ev.pod(ctx, pod, eventWarning, "Failed", fmt.Sprintf("Error: %v", err))
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonCreateContainerConfigEr, Message: err.Error()})
		return k.cfg.SyncPeriod
	}
	id, err := k.rt.CreateContainer(ctx, sb.ID, cfg)
	if err != nil {
		k.ev.pod(ctx, pod, eventWarning, "Failed", fmt.Sprintf("Error: %v", err))
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonCreateContainerError, Message: err.Error()})
		return k.cfg.SyncPeriod
	}
	k.ev.pod(ctx, pod, eventNormal, "Created", "Created container "+c.Name)
	if rec != nil {
		// Keep the attempt just exited (lastState, logs --previous); older
		// ones go.
		if rec.previous != nil {
			_ = k.rt.RemoveContainer(ctx, rec.previous.ID)
		}
		for _, o := range rec.older {
			_ = k.rt.RemoveContainer(ctx, o.ID)
		}
	}
	k.startCreated(ctx, pod, c, id)
	return 0
}

// startCreated starts a created container and reports it.
func (k *Kubelet) startCreated(ctx context.Context, pod *api.Pod, c *api.Container, id string) {
	if err := k.rt.StartContainer(ctx, id); err != nil {
		k.ev.pod(ctx, pod, eventWarning, "Failed", fmt.Sprintf("Error: %v", err))
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonRunContainerError, Message: err.Error()})
		return
	}
	k.setWaiting(pod, c.Name, nil)
	k.ev.pod(ctx, pod, eventNormal, "Started", "Started container "+c.Name)
	k.postStart(ctx, pod, c, id)
}

// pullImage makes c's image local as its imagePullPolicy says (Always:
// pull; IfNotPresent, the default for tagged images: pull when missing;
// Never: only a local image). A failure sets ErrImagePull, then
// ImagePullBackOff while the back-off runs, or ErrImageNeverPull.
func (k *Kubelet) pullImage(ctx context.Context, pod *api.Pod, c *api.Container) (runtime.Image, time.Duration, bool) {
	key := "pull/" + containerKey(pod, c.Name)
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = api.PullIfNotPresent
	}
	if policy != api.PullAlways {
		img, err := k.rt.ImageStatus(ctx, c.Image)
		if err == nil {
			k.resetBackoff(key)
			k.ev.pod(ctx, pod, eventNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image))
			return img, 0, true
		}
		if policy == api.PullNever {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
			k.ev.pod(ctx, pod, eventWarning, reasonErrImageNeverPull, msg)
			k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonErrImageNeverPull, Message: msg})
			return runtime.Image{}, 0, false
		}
	}
	k.mu.Lock()
	e := k.backoff[key]
	var since time.Time
	if e != nil {
		since = e.last
	}
	k.mu.Unlock()
	if left := k.inBackoff(key, since); left > 0 {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		if w := k.waitingOf(pod, c.Name); w == nil || w.Reason != reasonImagePullBackOff {
			k.ev.pod(ctx, pod, eventNormal, "BackOff", msg)
		}
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonImagePullBackOff, Message: msg})
		return runtime.Image{}, left, false
	}
	k.ev.pod(ctx, pod, eventNormal, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	start := k.cfg.Clock.Now()
	img, err := k.rt.EnsureImage(ctx, c.Image)
	if err != nil {
		d := k.stepBackoff(key)
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
		if errors.Is(err, runtime.ErrImageNotFound) {
			msg = fmt.Sprintf("Failed to pull image %q: image not found", c.Image)
		}
		k.ev.pod(ctx, pod, eventWarning, "Failed", msg)
		k.setWaiting(pod, c.Name, &api.ContainerStateWaiting{Reason: reasonErrImagePull, Message: msg})
		return runtime.Image{}, d, false
	}
	k.resetBackoff(key)
	k.ev.pod(ctx, pod, eventNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s", c.Image, k.cfg.Clock.Since(start)))
	return img, 0, true
}
