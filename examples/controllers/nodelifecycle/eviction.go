package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/store"
)

// Tolerates reports whether toleration tol matches taint t (Kubernetes'
// ToleratesTaint): same effect (or any when empty), same key (or any with
// an empty key and Exists), and with Equal the same value.
func Tolerates(tol *api.Toleration, t *api.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case api.TolerationOpExists:
		return true
	case "", "Equal":
		return tol.Key != "" && tol.Value == t.Value
	}
	return false
}

// evictionDelay returns how long pod p may stay on a node with the
// NoExecute taints ts: ok is false if some taint is not tolerated (evict
// now); forever is true if every matching toleration has no
// tolerationSeconds; otherwise the least tolerationSeconds of the
// tolerations used (negative counts as zero), as Kubernetes'
// getMinTolerationTime.
func evictionDelay(p *api.Pod, ts []api.Taint) (d time.Duration, forever, ok bool) {
	forever = true
	for i := range ts {
		matched := false
		for j := range p.Spec.Tolerations {
			tol := &p.Spec.Tolerations[j]
			if !Tolerates(tol, &ts[i]) {
				continue
			}
			matched = true
			if tol.TolerationSeconds == nil {
				continue
			}
			s := time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second
			if forever || s < d {
				d, forever = s, false
			}
		}
		if !matched {
			return 0, false, false
		}
	}
	return d, forever, true
}

// evictPass deletes the pods on n that its NoExecute taints evict: at
// once if not tolerated, once the least tolerationSeconds have passed
// since the taint was added otherwise (checked every monitor period).
func (c *Controller) evictPass(ctx context.Context, n *api.Node, now time.Time) error {
	var ts []api.Taint
	var since time.Time
	for _, t := range n.Spec.Taints {
		if t.Effect != api.TaintEffectNoExecute {
			continue
		}
		ts = append(ts, t)
		if t.TimeAdded != nil && (since.IsZero() || t.TimeAdded.Time.Before(since)) {
			since = t.TimeAdded.Time
		}
	}
	if len(ts) == 0 {
		return nil
	}
	if since.IsZero() {
		since = now
	}
	pods, _ := c.pods.ByIndex(nodeIndex, n.Name)
	var errs []error
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == api.PodSucceeded || p.Status.Phase == api.PodFailed {
			continue
		}
		d, forever, ok := evictionDelay(p, ts)
		if ok && (forever || now.Before(since.Add(d))) {
			continue
		}
		if _, err := c.cfg.Client.Pods().Delete(ctx, p.Namespace, p.Name, store.WithPreconditionUID(p.UID)); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, fmt.Errorf("evict pod %s/%s: %w", p.Namespace, p.Name, err))
			}
			continue
		}
		c.evictions.WithLabelValues(zoneOf(n)).Inc()
		c.log.Info("evicted pod", "object", p.Namespace+"/"+p.Name, "node", n.Name)
		c.cfg.Recorder.Eventf(ctx, p, api.PodResource, controllerutil.EventNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", p.Namespace, p.Name)
	}
	return errors.Join(errs...)
}
