package nodelifecycle

import (
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestEvictionDelay(t *testing.T) {
	s := func(n int64) *int64 { return &n }
	unreach := api.Taint{Key: TaintUnreachable, Effect: api.TaintEffectNoExecute}
	notReady := api.Taint{Key: TaintNotReady, Effect: api.TaintEffectNoExecute}
	tol := func(key string, secs *int64) api.Toleration {
		return api.Toleration{Key: key, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	for _, tc := range []struct {
		name    string
		tols    []api.Toleration
		taints  []api.Taint
		d       time.Duration
		forever bool
		ok      bool
	}{
		{"none", nil, []api.Taint{unreach}, 0, false, false},
		{"other key", []api.Toleration{tol(TaintNotReady, nil)}, []api.Taint{unreach}, 0, false, false},
		{"forever", []api.Toleration{tol(TaintUnreachable, nil)}, []api.Taint{unreach}, 0, true, true},
		{"seconds", []api.Toleration{tol(TaintUnreachable, s(30))}, []api.Taint{unreach}, 30 * time.Second, false, true},
		{"least of two", []api.Toleration{tol(TaintUnreachable, s(30)), tol("", s(10))}, []api.Taint{unreach}, 10 * time.Second, false, true},
		{"negative is zero", []api.Toleration{tol(TaintUnreachable, s(-5))}, []api.Taint{unreach}, 0, false, true},
		{"one of two untolerated", []api.Toleration{tol(TaintUnreachable, nil)}, []api.Taint{unreach, notReady}, 0, false, false},
		{"equal value", []api.Toleration{{Key: TaintUnreachable, Value: "x", Effect: api.TaintEffectNoExecute}}, []api.Taint{{Key: TaintUnreachable, Value: "x", Effect: api.TaintEffectNoExecute}}, 0, true, true},
	} {
		p := &api.Pod{}
		p.Spec.Tolerations = tc.tols
		d, forever, ok := evictionDelay(p, tc.taints)
		if d != tc.d || forever != tc.forever || ok != tc.ok {
			t.Errorf("%s: (%v, %v, %v), want (%v, %v, %v)", tc.name, d, forever, ok, tc.d, tc.forever, tc.ok)
		}
	}
}

func TestZoneStateAndBucket(t *testing.T) {
	for _, tc := range []struct {
		total, notReady int
		want            ZoneState
	}{{10, 0, StateNormal}, {10, 10, StateFullDisruption}, {10, 6, StatePartialDisruption}, {10, 5, StateNormal}, {4, 2, StateNormal}, {5, 3, StatePartialDisruption}} {
		if got := zoneState(tc.total, tc.notReady, DefaultUnhealthyZoneThreshold); got != tc.want {
			t.Errorf("zoneState(%d, %d) = %s, want %s", tc.total, tc.notReady, got, tc.want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(0.1, now)
	if !b.take(now) || b.take(now) || b.take(now.Add(9*time.Second)) || !b.take(now.Add(10*time.Second)) {
		t.Error("bucket at 0.1/s: want one now, none within 10 s, one at 10 s")
	}
	b.setRate(0, now.Add(100*time.Second))
	if b.take(now.Add(200 * time.Second)) {
		t.Error("bucket at rate 0 let one through")
	}
}
