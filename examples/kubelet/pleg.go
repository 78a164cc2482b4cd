package kubelet

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/runtime"
)

// runRelist is the kubelet's pod lifecycle event generator, as Kubernetes'
// PLEG: every SyncPeriod it lists the runtime's sandboxes and containers
// once, and re-syncs only the pods whose sandboxes or containers appeared,
// went or changed state since the list before, so that an idle pod costs
// no sync (every pod is still synced every ResyncPeriod).
func (k *Kubelet) runRelist(ctx context.Context) error {
	var last map[reconcile.Request]string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-k.cfg.Clock.After(k.cfg.SyncPeriod):
		}
		cur, err := k.relist(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			k.log.Warn("relisting the runtime's pods", "err", err)
			continue
		}
		if last != nil {
			for req, fp := range cur {
				if last[req] != fp {
					k.ctl.Queue().Add(req)
				}
			}
			for req := range last {
				if _, ok := cur[req]; !ok {
					k.ctl.Queue().Add(req)
				}
			}
		}
		last = cur
	}
}

// relist returns, for each pod the runtime holds, a fingerprint of its
// sandboxes and containers (IDs, states, attempts and exit codes): it
// differs between two lists exactly when something about them changed.
func (k *Kubelet) relist(ctx context.Context) (map[reconcile.Request]string, error) {
	sbs, err := k.rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	cs, err := k.rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	parts := make(map[reconcile.Request][]string, len(sbs))
	podOf := make(map[string]reconcile.Request, len(sbs))
	for _, sb := range sbs {
		req := reconcile.Request{Namespace: sb.Namespace, Name: sb.Name}
		podOf[sb.ID] = req
		parts[req] = append(parts[req], fmt.Sprintf("s/%s/%v/%d", sb.ID, sb.State, sb.Attempt))
	}
	for _, c := range cs {
		req, ok := podOf[c.SandboxID]
		if !ok {
			continue
		}
		parts[req] = append(parts[req], fmt.Sprintf("c/%s/%v/%d/%d", c.ID, c.State, c.Attempt, c.ExitCode))
	}
	out := make(map[reconcile.Request]string, len(parts))
	for req, p := range parts {
		slices.Sort(p)
		out[req] = strings.Join(p, ",")
	}
	return out, nil
}
