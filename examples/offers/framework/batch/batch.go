package batch

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
)

// DefaultRefuse is how long an offer the framework had no use for is
// refused.
const DefaultRefuse = 5 * time.Second

// Framework runs tasks through a running Driver.
type Framework struct {
	d       *framework.Driver
	waiting []framework.Task
	byName  map[string]framework.Task

	mu     sync.Mutex
	placed map[string]string // task → node, while launched
}

// New returns a batch framework for tasks (names unique) on d, whose Run
// the caller runs.
func New(d *framework.Driver, tasks []framework.Task) (*Framework, error) {
	f := &Framework{d: d, byName: map[string]framework.Task{}, placed: map[string]string{}}
	for _, t := range tasks {
		if _, dup := f.byName[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("batch: task name %q empty or repeated: %w", t.Name, framework.ErrInvalid)
		}
		f.byName[t.Name] = t
	}
	f.waiting = append(f.waiting, tasks...)
	return f, nil
}

// Placement returns where each launched task runs (task → node).
func (f *Framework) Placement() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]string, len(f.placed))
	for k, v := range f.placed {
		out[k] = v
	}
	return out
}

// Run launches the tasks and returns nil once all have finished, or ctx's
// error, or the driver's if its offers end.
func (f *Framework) Run(ctx context.Context) error {
	finished := map[string]bool{}
	for len(finished) < len(f.byName) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case o, ok := <-f.d.Offers():
			if !ok {
				return fmt.Errorf("batch: %w", f.d.Err())
			}
			// Take whatever else is pending now too, and fill the
			// largest first.
			batch := []offersapi.Offer{o}
			for more := true; more; {
				select {
				case o2, ok := <-f.d.Offers():
					if ok {
						batch = append(batch, o2)
					}
					more = ok
				default:
					more = false
				}
			}
			if err := f.answer(ctx, batch); err != nil {
				return err
			}
		case st := <-f.d.Statuses():
			switch st.State {
			case offers.TaskFinished:
				finished[st.Task] = true
			case offers.TaskFailed, offers.TaskLost:
				f.mu.Lock()
				delete(f.placed, st.Task)
				f.mu.Unlock()
				f.waiting = append(f.waiting, f.byName[st.Task])
			}
		}
	}
	return nil
}

// answer fills the offers, largest first, and declines those left empty.
func (f *Framework) answer(ctx context.Context, batch []offersapi.Offer) error {
	size := func(o offersapi.Offer) int64 {
		q := o.Spec.Resources[api.ResourceCPU]
		return q.MilliValue()
	}
	sort.SliceStable(batch, func(i, j int) bool { return size(batch[i]) > size(batch[j]) })
	for _, o := range batch {
		var take []framework.Task
		left := api.ResourceList{}
		for n, q := range o.Spec.Resources {
			left[n] = q
		}
		var rest []framework.Task
		for _, t := range f.waiting {
			if framework.HowMany(left, t.Resources) >= 1 {
				take = append(take, t)
				for n, q := range t.Resources {
					left[n] = left[n].Sub(q)
				}
			} else {
				rest = append(rest, t)
			}
		}
		if len(take) == 0 {
			if err := f.d.Decline(ctx, o, DefaultRefuse); err != nil && ctx.Err() != nil {
				return err
			}
			continue
		}
		if err := f.d.Accept(ctx, o, take); err != nil {
			if ctx.Err() != nil {
				return err
			}
			// Rejected (say, another scheduler filled the node
			// meanwhile): the tasks wait on, and the offer, still
			// pending, is declined so that its node is offered again
			// as it now stands.
			if err := f.d.Decline(ctx, o, 0); err != nil && ctx.Err() != nil {
				return err
			}
			continue
		}
		f.waiting = rest
		f.mu.Lock()
		for _, t := range take {
			f.placed[t.Name] = o.Spec.Node
		}
		f.mu.Unlock()
	}
	return nil
}
