package runtime

import (
	"context"
	"errors"
	"fmt"
)

// RemoveOrphans removes the sandboxes no pod owns, and containers whose
// sandbox is gone: what a kubelet does after a restart, once it has
// adopted what it still wants. keep reports whether a sandbox belongs to a
// pod that should exist (typically by its UID label). It returns the IDs it
// removed, sandboxes first; on error it stops and returns what it removed so
// far.
func RemoveOrphans(ctx context.Context, rt Runtime, keep func(SandboxStatus) bool) ([]string, error) {
	sbs, err := rt.ListSandboxes(ctx, SandboxFilter{})
	if err != nil {
		return nil, fmt.Errorf("remove orphans: %w", err)
	}
	var removed []string
	live := map[string]bool{}
	for _, sb := range sbs {
		if keep(sb) {
			live[sb.ID] = true
			continue
		}
		if err := rt.RemoveSandbox(ctx, sb.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return removed, fmt.Errorf("remove orphans: %w", err)
		}
		removed = append(removed, sb.ID)
	}
	ctrs, err := rt.ListContainers(ctx, ContainerFilter{})
	if err != nil {
		return removed, fmt.Errorf("remove orphans: %w", err)
	}
	for _, c := range ctrs {
		if live[c.SandboxID] {
			continue
		}
		if err := rt.RemoveContainer(ctx, c.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return removed, fmt.Errorf("remove orphans: %w", err)
		}
		removed = append(removed, c.ID)
	}
	return removed, nil
}
