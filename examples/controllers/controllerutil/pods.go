package controllerutil

import (
	"context"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// IsPodActive reports whether a pod still counts toward its controller's
// replicas: not Succeeded, not Failed, and not being deleted (Kubernetes'
// FilterActivePods).
func IsPodActive(p *api.Pod) bool {
	return p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed && p.DeletionTimestamp == nil
}

// IsPodTerminating reports whether a pod is being deleted but has not
// reached a terminal phase: what status.terminatingReplicas counts.
func IsPodTerminating(p *api.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != api.PodSucceeded && p.Status.Phase != api.PodFailed
}

// ActivePods returns the active pods of pods, in order.
func ActivePods(pods []*api.Pod) []*api.Pod {
	out := make([]*api.Pod, 0, len(pods))
	for _, p := range pods {
		if IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// podReadyCondition returns the pod's Ready condition, or nil.
func podReadyCondition(p *api.Pod) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == api.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(p *api.Pod) bool {
	c := podReadyCondition(p)
	return c != nil && c.Status == api.ConditionTrue
}

// PodReadyTime returns when the pod last became Ready, or the zero time
// if it is not Ready.
func PodReadyTime(p *api.Pod) time.Time {
	if c := podReadyCondition(p); c != nil && c.Status == api.ConditionTrue {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// IsPodAvailable reports whether the pod has been Ready for at least
// minReadySeconds at now (Kubernetes' podutil.IsPodAvailable: with
// minReadySeconds 0 a Ready pod is available at once).
func IsPodAvailable(p *api.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(p) {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	t := PodReadyTime(p)
	min := time.Duration(minReadySeconds) * time.Second
	return !t.IsZero() && !t.Add(min).After(now)
}

// PodKey returns "namespace/name", the key expectations track deletes by.
func PodKey(p *api.Pod) string { return p.Namespace + "/" + p.Name }

// BoolPtr returns a pointer to b.
func BoolPtr(b bool) *bool { return &b }

// ControllerRef returns the owner reference a controller puts on what it
// creates: controller=true and blockOwnerDeletion=true, so the garbage
// collector's foreground deletion waits for the dependent.
func ControllerRef(owner store.Object, res store.Resource) store.OwnerReference {
	m := owner.GetObjectMeta()
	return store.OwnerReference{APIVersion: res.APIVersion, Kind: res.Kind, Name: m.Name, UID: m.UID,
		Controller: BoolPtr(true), BlockOwnerDeletion: BoolPtr(true)}
}

// maxGenerateNamePrefix is the longest prefix kept whole: the server
// appends five random characters and names are at most 63.
const maxGenerateNamePrefix = 58

// PodFromTemplate returns the pod a controller creates from a template, as
// Kubernetes' GetPodFromTemplate does: the template's labels, annotations,
// finalizers and spec (copies), generateName "<owner name>-" (the name
// alone when the dash would make the prefix too long), in the owner's
// namespace, with ref as the controller reference.
func PodFromTemplate(t *api.PodTemplateSpec, namespace, ownerName string, ref store.OwnerReference) *api.Pod {
	tc := t.DeepCopy()
	p := &api.Pod{}
	p.Namespace = namespace
	p.Labels = tc.Labels
	p.Annotations = tc.Annotations
	p.Finalizers = tc.Finalizers
	prefix := ownerName + "-"
	if len(prefix) > maxGenerateNamePrefix {
		prefix = ownerName
	}
	p.GenerateName = prefix
	p.OwnerReferences = []store.OwnerReference{ref}
	p.Spec = tc.Spec
	return p
}

// SlowStartBatch calls fn count times, in batches that start at
// initialBatch and double while every call succeeds, running the calls of
// one batch at once; it stops after the first batch with a failure and
// returns how many calls succeeded and the first error. This is how
// Kubernetes' replica set and job controllers create pods: a template the
// server rejects costs one request, not hundreds. fn gets the context, and
// is not called again once ctx ends (the calls not made are not counted as
// successes, and the context's error is returned).
func SlowStartBatch(ctx context.Context, count, initialBatch int, fn func(ctx context.Context) error) (int, error) {
	remaining, done := count, 0
	for batch := min(remaining, max(initialBatch, 1)); batch > 0; batch = min(2*batch, remaining) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		done += batch - len(errs)
		if err, failed := <-errs; failed {
			return done, err
		}
		remaining -= batch
	}
	return done, nil
}
