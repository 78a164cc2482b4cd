package scheduler_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/examples/scheduler/plugins"
)

// Identical pods are scheduled in batches (the previous cycle's
// candidates, re-checking only the nodes that changed), and the result
// is still what full cycles give: LeastAllocated spreads a first wave
// evenly (each placement must be re-scored), a second wave fills every
// node exactly to capacity (each placement must be re-filtered), and the
// pods that do not fit stay pending. The fake clock advances only when
// scheduling has stalled for 5 s of real time, so every batch stays
// young enough to be reused; a stall (a binding or a watch that failed
// on a loaded machine, whose retry waits on the clock) is logged, and
// the retry it releases still has to reach the same result.
func TestBatchedCyclesKeepVerdicts(t *testing.T) {
	cs := startServer(t)
	const nodes, capacity, wave1, extra = 12, 10, 3, 4
	for i := range nodes {
		createNode(t, cs, newNode(fmt.Sprintf("n%02d", i), "1", "8Gi", nil))
	}
	reg := prometheus.NewRegistry()
	fit, _ := plugins.NewNodeResourcesFit(plugins.FitArgs{})
	clk := clockwork.NewFakeClock()
	startScheduler(t, scheduler.Config{Client: cs, Clock: clk, Registerer: reg, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Profiles: []scheduler.Profile{{SchedulerName: scheduler.DefaultSchedulerName, Plugins: []framework.Plugin{
			plugins.NodeUnschedulable{}, plugins.NodeName{}, plugins.TaintToleration{}, plugins.NodeAffinity{},
			plugins.NodePorts{}, fit, plugins.BalancedAllocation{}}}}})
	wave := func(from, to, wantBound, wantPending, wantEach int) {
		t.Helper()
		for i := from; i < to; i++ {
			createPod(t, cs, newPod(fmt.Sprintf("p%03d", i), "100m", "100Mi"))
		}
		last, progressed := -1, time.Now()
		waitFor(t, fmt.Sprintf("%d pods bound", wantBound), func() (bool, error) {
			by, _ := podsByNode(t, cs)
			n := 0
			for _, ps := range by {
				n += len(ps)
			}
			if n != last {
				last, progressed = n, time.Now()
			} else if time.Since(progressed) > 5*time.Second {
				t.Logf("scheduling stalled at %d of %d pods bound: advancing the fake clock by a minute", n, wantBound)
				clk.Advance(time.Minute)
				progressed = time.Now()
			}
			return n == wantBound, nil
		})
		by, unbound := podsByNode(t, cs)
		if len(by) != nodes || len(unbound) != wantPending {
			t.Fatalf("pods on %d nodes with %d pending, want %d nodes and %d pending", len(by), len(unbound), nodes, wantPending)
		}
		for node, ps := range by {
			if len(ps) != wantEach {
				t.Errorf("node %s has %d pods, want %d", node, len(ps), wantEach)
			}
		}
	}
	wave(0, nodes*wave1, nodes*wave1, 0, wave1)
	wave(nodes*wave1, nodes*capacity+extra, nodes*capacity, extra, capacity)
	if got := counter(t, reg, "scheduler_batched_cycles_total"); got < nodes*capacity/2 {
		t.Fatalf("%v batched cycles, want most of the %d", got, nodes*capacity)
	}
	// Every extension point the cycles went through is timed; the
	// sampled cycles (10%: with over a hundred cycles, some) time each
	// plugin call.
	for _, point := range []string{"PreFilter", "Filter", "Score", "Reserve", "Bind"} {
		if n := histogramCount(t, reg, "scheduler_framework_extension_point_duration_seconds",
			map[string]string{"extension_point": point, "status": "Success", "profile": scheduler.DefaultSchedulerName}); n == 0 {
			t.Errorf("no %s durations recorded", point)
		}
	}
	for _, pl := range []string{plugins.NodeResourcesFitName, plugins.NodeResourcesBalancedAllocationName, scheduler.DefaultBinderName} {
		if histogramCount(t, reg, "scheduler_plugin_execution_duration_seconds", map[string]string{"plugin": pl}) == 0 {
			t.Errorf("no sampled durations of plugin %s", pl)
		}
	}
}

// histogramCount sums the sample counts of a histogram's series whose
// labels include want.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// counter reads a counter from the registry.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// testWriter writes each log line to t.Log: seen when the test fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
