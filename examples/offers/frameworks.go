package offers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
)

// Register adds a framework (defaults applied to a copy of f), or
// re-registers one that was unregistered (a failover: it keeps its
// allocation). A framework that is registered already gets its spec
// updated.
func (a *Allocator) Register(f *offersapi.Framework) error {
	f = f.DeepCopy()
	f.SetDefaults()
	if err := f.Validate(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	task, err := a.names.vec("framework "+f.Name+" taskResources", f.Spec.TaskResources)
	if err != nil {
		return err
	}
	total, err := a.names.vec("framework "+f.Name+" totalResources", f.Spec.TotalResources)
	if err != nil {
		return err
	}
	fw, ok := a.frameworks[f.Name]
	if ok && fw.role != f.Spec.Role && !fw.held.isZero() {
		return fmt.Errorf("framework %s: role %s cannot change to %s while it holds resources: %w", f.Name, fw.role, f.Spec.Role, ErrInvalid)
	}
	if !ok {
		fw = &framework{name: f.Name, allocated: map[string]vec{}, filters: map[string]time.Time{}, lastAccept: a.cycle,
			madeTotal: a.metrics.made.WithLabelValues(f.Name), shareGauge: a.metrics.share.WithLabelValues(f.Name)}
		a.frameworks[f.Name] = fw
	}
	fw.role = f.Spec.Role
	a.roleOf(fw.role)
	fw.weight = int64(f.Spec.Weight)
	fw.task, fw.hasTask = task, !task.isZero()
	fw.total, fw.totalMask = total, vec{}
	for n := range f.Spec.TotalResources {
		fw.totalMask[a.names.index[n]] = 1
	}
	fw.registered = true
	a.updateShares()
	return nil
}

// Unregister removes a framework (it disconnected or crashed): its pending
// offers are rescinded (reason FrameworkRemoved) and returned; its tasks
// keep running, so their allocation stays counted until Release.
func (a *Allocator) Unregister(name string) ([]offersapi.Offer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fw, ok := a.frameworks[name]
	if !ok || !fw.registered {
		return nil, fmt.Errorf("framework %s: %w", name, ErrNotFound)
	}
	var out []offersapi.Offer
	for _, o := range a.sortedOffers(func(o *offer) bool { return o.framework.name == name }) {
		a.close(o, offersapi.OfferRescinded)
		a.metrics.rescinded.WithLabelValues(name, "FrameworkRemoved").Inc()
		out = append(out, a.object(o, "FrameworkRemoved"))
	}
	fw.registered = false
	if len(out) > 0 {
		a.notify()
	}
	fw.filters = map[string]time.Time{}
	a.gcFrameworks()
	a.updateShares()
	return out, nil
}

// Release ends tasks of a framework on a node: res, their resources,
// leaves its allocation. Releasing more than is allocated is ErrInvalid
// and changes nothing.
func (a *Allocator) Release(framework, nodeName string, res api.ResourceList) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	fw, ok := a.frameworks[framework]
	if !ok {
		return fmt.Errorf("framework %s: %w", framework, ErrNotFound)
	}
	v, err := a.names.vec("release", res)
	if err != nil {
		return err
	}
	if !v.fits(fw.allocated[nodeName]) {
		return fmt.Errorf("framework %s: release of %v on node %s exceeds its allocation there: %w", framework, res, nodeName, ErrInvalid)
	}
	a.moveAllocated(fw, nodeName, v, -1)
	a.gcFrameworks()
	a.updateShares()
	return nil
}

// moveAllocated adds sign*v to fw's allocation on the node, and to the
// node's, role's and framework's books.
func (a *Allocator) moveAllocated(fw *framework, nodeName string, v vec, sign int64) {
	if sign < 0 {
		fw.allocated[nodeName] = fw.allocated[nodeName].sub(v)
		if fw.allocated[nodeName].isZero() {
			delete(fw.allocated, nodeName)
		}
		fw.held = fw.held.sub(v)
		a.roles[fw.role].held = a.roles[fw.role].held.sub(v)
		if n, ok := a.nodes[nodeName]; ok {
			n.allocated = n.allocated.sub(v)
			n.hold(a.roles[fw.role], v, -1)
		}
		return
	}
	fw.allocated[nodeName] = fw.allocated[nodeName].add(v)
	fw.held = fw.held.add(v)
	a.roles[fw.role].held = a.roles[fw.role].held.add(v)
	n := a.nodes[nodeName]
	n.allocated = n.allocated.add(v)
	n.hold(a.roles[fw.role], v, 1)
}

// gcFrameworks forgets unregistered frameworks that hold nothing.
func (a *Allocator) gcFrameworks() {
	for name, fw := range a.frameworks {
		if !fw.registered && fw.held.isZero() {
			delete(a.frameworks, name)
			a.metrics.share.DeleteLabelValues(name)
		}
	}
}

// share is the dominant share of held: the largest fraction of the
// cluster's total of any resource.
func (a *Allocator) share(held vec) float64 {
	s := 0.0
	for i := range held {
		if a.total[i] > 0 && held[i] > 0 {
			if x := float64(held[i]) / float64(a.total[i]); x > s {
				s = x
			}
		}
	}
	return s
}

func (a *Allocator) updateShares() {
	for _, fw := range a.frameworks {
		fw.shareGauge.Set(a.share(fw.held))
	}
}

// Status returns a framework's status: registered, dominant share (of
// what it holds, allocated and offered), and allocation.
func (a *Allocator) Status(name string) (offersapi.FrameworkStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fw, ok := a.frameworks[name]
	if !ok {
		return offersapi.FrameworkStatus{}, fmt.Errorf("framework %s: %w", name, ErrNotFound)
	}
	var alloc vec
	for _, v := range fw.allocated {
		alloc = alloc.add(v)
	}
	return offersapi.FrameworkStatus{
		Registered:    fw.registered,
		DominantShare: strconv.FormatFloat(a.share(fw.held), 'f', 4, 64),
		Allocated:     a.names.toList(alloc),
	}, nil
}

// Share returns a framework's dominant share (allocated and offered) as a
// fraction, 0 for an unknown framework.
func (a *Allocator) Share(name string) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if fw, ok := a.frameworks[name]; ok {
		return a.share(fw.held)
	}
	return 0
}

// sortedOffers returns the pending offers that keep says, by ID order.
func (a *Allocator) sortedOffers(keep func(*offer) bool) []*offer {
	var out []*offer
	for o := range a.offers.all {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}
