package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
)

// DefaultRefuse is how long an offer of a node that already runs a
// replica (or one not needed) is refused.
const DefaultRefuse = 10 * time.Second

// Framework keeps Replicas replicas through a running Driver.
type Framework struct {
	d         *framework.Driver
	name      string
	replicas  int
	resources api.ResourceList
	next      int

	mu     sync.Mutex
	placed map[string]string // replica task → node
}

// New returns a service framework keeping replicas replicas named
// name-<n>, each holding resources, on d, whose Run the caller runs.
func New(d *framework.Driver, name string, replicas int, resources api.ResourceList) (*Framework, error) {
	if name == "" || replicas < 0 || len(resources) == 0 {
		return nil, fmt.Errorf("service: name, a non-negative replica count and resources are required: %w", framework.ErrInvalid)
	}
	return &Framework{d: d, name: name, replicas: replicas, resources: resources, placed: map[string]string{}}, nil
}

// Placement returns where each live replica runs (task → node).
func (f *Framework) Placement() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(f.placed))
	for k, v := range f.placed {
		out[k] = v
	}
	return out
}

// Run keeps the replicas until ctx ends (it returns ctx's error) or the
// driver's offers end (it returns the driver's error).
func (f *Framework) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case o, ok := <-f.d.Offers():
			if !ok {
				return fmt.Errorf("service %s: %w", f.name, f.d.Err())
			}
			f.mu.Lock()
			used := false
			for _, n := range f.placed {
				used = used || n == o.Spec.Node
			}
			need := len(f.placed) < f.replicas
			f.mu.Unlock()
			if used || !need || framework.HowMany(o.Spec.Resources, f.resources) < 1 {
				if err := f.d.Decline(ctx, o, DefaultRefuse); err != nil && ctx.Err() != nil {
					return ctx.Err()
				}
				continue
			}
			f.next++
			task := framework.Task{Name: fmt.Sprintf("%s-%d", f.name, f.next), Resources: f.resources}
			if err := f.d.Accept(ctx, o, []framework.Task{task}); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// Rejected: decline the still pending offer, so its
				// node is offered again as it now stands.
				_ = f.d.Decline(ctx, o, 0)
				continue
			}
			f.mu.Lock()
			f.placed[task.Name] = o.Spec.Node
			f.mu.Unlock()
		case st := <-f.d.Statuses():
			if st.State.Terminal() {
				f.mu.Lock()
				delete(f.placed, st.Task)
				f.mu.Unlock()
			}
		}
	}
}
