package endpointslice

import (
	"cmp"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// plan is what one sync writes: slices to create (no name yet), to update
// (copies of cached slices, changed) and to delete.
type plan struct {
	create, update, remove []*discovery.EndpointSlice
	// touched are the endpoint keys (pod|address) whose content is
	// written by this plan (added or changed), for the lag metric.
	touched []string
}

// planSlices computes the slice writes that turn existing into desired,
// following Kubernetes' reconciler: endpoints stay in the slice they are
// in; removed and changed endpoints make their slice an update; new
// endpoints first fill slices that are updated anyway, then go into new
// slices of at most max endpoints, except that a last partial chunk goes
// into the fullest unchanged slice it fits in rather than a new slice;
// slices left empty are deleted, slices of port sets no longer desired
// are deleted, and a service without endpoints keeps one empty
// placeholder slice. newSlice returns a fresh slice of a group.
func planSlices(existing []*discovery.EndpointSlice, desired []desiredEndpoint, max int,
	newSlice func(d *desiredEndpoint) *discovery.EndpointSlice) plan {
	var p plan
	slices.SortFunc(existing, func(a, b *discovery.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	if len(desired) == 0 {
		return placeholder(existing, newSlice)
	}
	byGroup := map[string][]desiredEndpoint{}
	var groups []string
	for _, d := range desired {
		if _, ok := byGroup[d.group]; !ok {
			groups = append(groups, d.group)
		}
		byGroup[d.group] = append(byGroup[d.group], d)
	}
	existingBy := map[string][]*discovery.EndpointSlice{}
	for _, s := range existing {
		g := sliceGroup(s)
		if _, ok := byGroup[g]; !ok {
			p.remove = append(p.remove, s)
			continue
		}
		existingBy[g] = append(existingBy[g], s)
	}
	for _, g := range groups {
		p.planGroup(existingBy[g], byGroup[g], max, newSlice)
	}
	return p
}

func (p *plan) planGroup(existing []*discovery.EndpointSlice, desired []desiredEndpoint, max int,
	newSlice func(d *desiredEndpoint) *discovery.EndpointSlice) {
	want := make(map[string]*desiredEndpoint, len(desired))
	for i := range desired {
		want[endpointKey(&desired[i].ep)] = &desired[i]
	}
	placed := map[string]bool{}
	var changed, unchanged []*discovery.EndpointSlice
	for _, s := range existing {
		var eps []discovery.Endpoint
		dirty := false
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			k := endpointKey(ep)
			d, ok := want[k]
			if !ok || placed[k] {
				dirty = true
				continue
			}
			placed[k] = true
			if !endpointEqual(ep, &d.ep) {
				dirty = true
				p.touched = append(p.touched, k)
			}
			eps = append(eps, d.ep)
		}
		if !dirty {
			unchanged = append(unchanged, s)
			continue
		}
		c := s.DeepCopy()
		c.Endpoints = eps
		changed = append(changed, c)
	}
	var fresh []discovery.Endpoint
	for i := range desired {
		k := endpointKey(&desired[i].ep)
		if !placed[k] {
			placed[k] = true
			fresh = append(fresh, desired[i].ep)
			p.touched = append(p.touched, k)
		}
	}
	// Fill the slices that are written anyway.
	for _, c := range changed {
		for len(fresh) > 0 && len(c.Endpoints) < max {
			c.Endpoints = append(c.Endpoints, fresh[0])
			fresh = fresh[1:]
		}
	}
	// New slices of max endpoints; a last partial chunk may go into the
	// fullest unchanged slice with room.
	for len(fresh) > 0 {
		n := min(len(fresh), max)
		chunk := fresh[:n]
		fresh = fresh[n:]
		if n < max {
			var best *discovery.EndpointSlice
			for _, s := range unchanged {
				if len(s.Endpoints)+n <= max && (best == nil || len(s.Endpoints) > len(best.Endpoints)) {
					best = s
				}
			}
			if best != nil {
				unchanged = slices.DeleteFunc(unchanged, func(s *discovery.EndpointSlice) bool { return s == best })
				c := best.DeepCopy()
				c.Endpoints = append(c.Endpoints, chunk...)
				changed = append(changed, c)
				continue
			}
		}
		s := newSlice(&desired[0])
		s.Endpoints = slices.Clone(chunk)
		p.create = append(p.create, s)
	}
	for _, c := range changed {
		if len(c.Endpoints) == 0 {
			p.remove = append(p.remove, c)
		} else {
			p.update = append(p.update, c)
		}
	}
}

// placeholder plans a service with no endpoints: one empty slice without
// ports (an existing one is kept or reused), the others deleted.
func placeholder(existing []*discovery.EndpointSlice, newSlice func(d *desiredEndpoint) *discovery.EndpointSlice) plan {
	var p plan
	if len(existing) == 0 {
		p.create = append(p.create, newSlice(nil))
		return p
	}
	keep := existing[0]
	for _, s := range existing {
		if len(s.Endpoints) == 0 && len(s.Ports) == 0 && s.AddressType == discovery.AddressTypeIPv4 {
			keep = s
			break
		}
	}
	for _, s := range existing {
		if s != keep {
			p.remove = append(p.remove, s)
		}
	}
	if len(keep.Endpoints) != 0 || len(keep.Ports) != 0 || keep.AddressType != discovery.AddressTypeIPv4 {
		if keep.AddressType != discovery.AddressTypeIPv4 {
			// The address type of a slice cannot change: replace it.
			p.remove = append(p.remove, keep)
			p.create = append(p.create, newSlice(nil))
			return p
		}
		c := keep.DeepCopy()
		c.Endpoints, c.Ports = []discovery.Endpoint{}, []discovery.EndpointPort{}
		p.update = append(p.update, c)
	}
	return p
}
