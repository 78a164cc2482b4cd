package endpointslice

import (
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

func desiredN(from, n int) []desiredEndpoint {
	var out []desiredEndpoint
	for i := from; i < from+n; i++ {
		ep := discovery.Endpoint{Addresses: []string{fmt.Sprintf("10.0.%d.%d", i/250, i%250)},
			Conditions: discovery.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)},
			TargetRef:  &api.ObjectReference{Kind: "Pod", Namespace: "d", Name: fmt.Sprint("p", i)}}
		out = append(out, desiredEndpoint{ep: ep, group: "IPv4|", pod: "d/p" + fmt.Sprint(i)})
	}
	return out
}

func sliceOf(name string, d []desiredEndpoint) *discovery.EndpointSlice {
	s := &discovery.EndpointSlice{AddressType: discovery.AddressTypeIPv4}
	s.Name = name
	for _, x := range d {
		s.Endpoints = append(s.Endpoints, x.ep)
	}
	return s
}

func newTestSlice(*desiredEndpoint) *discovery.EndpointSlice {
	return &discovery.EndpointSlice{AddressType: discovery.AddressTypeIPv4}
}

// TestPlanReuse checks Kubernetes' reuse rules on the planner alone.
func TestPlanReuse(t *testing.T) {
	// Unchanged slices, 5 new endpoints: they go into the fullest slice
	// they fit in (a: 90, b: 50 of max 100 -> a), no new slice.
	all := desiredN(0, 145)
	p := planSlices([]*discovery.EndpointSlice{sliceOf("a", all[:90]), sliceOf("b", all[90:140])}, all, 100, newTestSlice)
	if len(p.create) != 0 || len(p.remove) != 0 || len(p.update) != 1 || p.update[0].Name != "a" || len(p.update[0].Endpoints) != 95 {
		t.Fatalf("plan create=%d update=%v remove=%d, want a grown to 95", len(p.create), names(p.update), len(p.remove))
	}
	// 15 new: no slice has room (a 90, b 90 -> none fits 15): one new slice.
	all = desiredN(0, 195)
	p = planSlices([]*discovery.EndpointSlice{sliceOf("a", all[:90]), sliceOf("b", all[90:180])}, all, 100, newTestSlice)
	if len(p.create) != 1 || len(p.create[0].Endpoints) != 15 || len(p.update) != 0 {
		t.Fatalf("plan create=%d update=%v, want one new slice of 15", len(p.create), names(p.update))
	}
	// A removal in b makes b an update; the new endpoint fills b first.
	cur := desiredN(0, 140)
	want := append(append([]desiredEndpoint{}, cur[:139]...), desiredN(500, 1)...)
	p = planSlices([]*discovery.EndpointSlice{sliceOf("a", cur[:90]), sliceOf("b", cur[90:140])}, want, 100, newTestSlice)
	if len(p.create) != 0 || len(p.update) != 1 || p.update[0].Name != "b" || len(p.update[0].Endpoints) != 50 {
		t.Fatalf("plan create=%d update=%v, want b rewritten with 50", len(p.create), names(p.update))
	}
	// Every endpoint removed: one slice stays as an empty placeholder.
	p = planSlices([]*discovery.EndpointSlice{sliceOf("a", cur[:90]), sliceOf("b", cur[90:140])}, nil, 100, newTestSlice)
	if len(p.create) != 0 || len(p.update) != 1 || len(p.update[0].Endpoints) != 0 || len(p.remove) != 1 {
		t.Fatalf("plan create=%d update=%v remove=%d, want one placeholder and one removal", len(p.create), names(p.update), len(p.remove))
	}
}

func names(s []*discovery.EndpointSlice) []string {
	var out []string
	for _, x := range s {
		out = append(out, fmt.Sprintf("%s(%d)", x.Name, len(x.Endpoints)))
	}
	return out
}
