package scheduler

import (
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/store"
)

// TestDefaultSelector: the selector of a pod's group for the default
// spread constraints, as Kubernetes' helper.DefaultSelector builds it
// from the Services that select the pod and its controller.
func TestDefaultSelector(t *testing.T) {
	svc := func(ns, name string, sel map[string]string) *api.Service {
		return &api.Service{ObjectMeta: store.ObjectMeta{Namespace: ns, Name: name}, Spec: api.ServiceSpec{Selector: sel}}
	}
	services := []*api.Service{
		svc("ns", "web", map[string]string{"app": "web"}),
		svc("ns", "tier", map[string]string{"tier": "front"}),
		svc("ns", "db", map[string]string{"app": "db"}),
		svc("ns", "headless", nil),
		svc("other", "web-elsewhere", map[string]string{"app": "web", "x": "y"}),
	}
	rs := &apps.ReplicaSet{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "web-rs"}}
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []api.LabelSelectorRequirement{{Key: "track", Operator: api.LabelSelectorOpIn, Values: []string{"stable", "canary"}}}}
	ss := &apps.StatefulSet{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "db"}}
	ss.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "db", "role": "primary"}}
	rc := &api.ReplicationController{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "legacy"}}
	rc.Spec.Selector = map[string]string{"legacy": "yes"}
	l := groupListers{
		services: func(ns string) []*api.Service {
			var out []*api.Service
			for _, s := range services {
				if s.Namespace == ns {
					out = append(out, s)
				}
			}
			return out
		},
		controller: func(ns, name string) (*api.ReplicationController, bool) {
			return rc, ns == rc.Namespace && name == rc.Name
		},
		replicaSet: func(ns, name string) (*apps.ReplicaSet, bool) {
			return rs, ns == rs.Namespace && name == rs.Name
		},
		statefulSet: func(ns, name string) (*apps.StatefulSet, bool) {
			return ss, ns == ss.Namespace && name == ss.Name
		},
	}
	yes := true
	owned := func(kind, apiVersion, name string) []store.OwnerReference {
		return []store.OwnerReference{{Kind: kind, APIVersion: apiVersion, Name: name, UID: "u", Controller: &yes}}
	}
	type probe struct {
		labels map[string]string
		want   bool
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		owners []store.OwnerReference
		none   bool    // no selector: the defaults do not apply
		probes []probe // pods the selector must (not) match
	}{
		{name: "selected by nothing", labels: map[string]string{"app": "batch"}, none: true},
		{name: "selected by nothing, owner unknown", labels: map[string]string{"app": "batch"}, owners: owned("ReplicaSet", "apps/v1", "gone"), none: true},
		{name: "one service", labels: map[string]string{"app": "web"}, probes: []probe{
			{map[string]string{"app": "web", "tier": "back"}, true}, {map[string]string{"app": "db"}, false}}},
		{name: "two services merge", labels: map[string]string{"app": "web", "tier": "front"}, probes: []probe{
			{map[string]string{"app": "web", "tier": "front", "z": "1"}, true}, {map[string]string{"app": "web"}, false}, {map[string]string{"tier": "front"}, false}}},
		{name: "service and replica set", labels: map[string]string{"app": "web", "track": "canary"}, owners: owned("ReplicaSet", "apps/v1", "web-rs"), probes: []probe{
			{map[string]string{"app": "web", "track": "stable"}, true}, {map[string]string{"app": "web"}, false}, {map[string]string{"app": "web", "track": "dev"}, false}}},
		{name: "stateful set", labels: map[string]string{"app": "db", "role": "primary"}, owners: owned("StatefulSet", "apps/v1", "db"), probes: []probe{
			{map[string]string{"app": "db", "role": "primary"}, true}, {map[string]string{"app": "db", "role": "replica"}, false}}},
		{name: "replication controller", labels: map[string]string{"legacy": "yes"}, owners: owned("ReplicationController", "v1", "legacy"), probes: []probe{
			{map[string]string{"legacy": "yes"}, true}, {map[string]string{"legacy": "no"}, false}}},
		{name: "owner of another kind is ignored", labels: map[string]string{"a": "b"}, owners: owned("Job", "batch/v1", "web-rs"), none: true},
		{name: "a non-controller owner is ignored", labels: map[string]string{"a": "b"},
			owners: []store.OwnerReference{{Kind: "ReplicaSet", APIVersion: "apps/v1", Name: "web-rs", UID: "u"}}, none: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &api.Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p", Labels: tc.labels, OwnerReferences: tc.owners}}
			sel := defaultSelector(pod, l)
			if tc.none {
				if sel != nil {
					t.Fatalf("got a selector, want none")
				}
				return
			}
			if sel == nil || !sel.Matches(tc.labels) {
				t.Fatalf("selector %v does not match the pod itself", sel)
			}
			for _, p := range tc.probes {
				if got := sel.Matches(p.labels); got != p.want {
					t.Errorf("matches %v = %v, want %v", p.labels, got, p.want)
				}
			}
		})
	}
}
