package informer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns metric name -> value for the series labelled informer=name.
func gather(t *testing.T, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if !hasLabel(m, "informer", name) {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

func TestMetrics(t *testing.T) {
	src := newSource()
	for i := 0; i < 4; i++ {
		src.Create(newPod("ns", fmt.Sprint("p", i), i))
	}
	reg := prometheus.NewRegistry()
	inf := mustNew(t, src, Config[*pod]{Name: "pods", Registerer: reg})
	slow := &recorder{block: make(chan struct{})}
	inf.AddHandler(slow)
	cancel := startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	rev, _ := src.Create(newPod("ns", "p9", 9))
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watch counted", func() bool { return inf.stats.watches.Load() == 1 })
	m := gather(t, reg, "pods")
	want := map[string]float64{
		"setpoint_informer_lists_total":          1,
		"setpoint_informer_list_errors_total":    0,
		"setpoint_informer_watches_total":        1,
		"setpoint_informer_relists_total":        0,
		"setpoint_informer_last_synced_revision": float64(rev),
		"setpoint_informer_objects":              5,
		"setpoint_informer_handlers":             1,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, m[k], v, m)
		}
	}
	// The blocked handler holds 4 initial adds and 1 live add; one is in
	// its hands.
	if q := m["setpoint_informer_handler_queue_depth"]; q < 4 {
		t.Errorf("handler queue depth = %v, want >= 4", q)
	}
	close(slow.block)
	// Metrics are unregistered when Run returns, so the name can be reused.
	cancel()
	<-inf.Stopped()
	again := mustNew(t, src, Config[*pod]{Name: "pods", Registerer: reg})
	startInformer(t, again)
	if err := again.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second informer with the same name on the same registry cannot run.
	dup := mustNew(t, src, Config[*pod]{Name: "pods", Registerer: reg})
	err := dup.Run(context.Background())
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("duplicate metrics: Run = %v, want an AlreadyRegisteredError", err)
	}
	if !errors.Is(dup.WaitForSync(context.Background()), ErrStopped) {
		t.Fatal("WaitForSync of an informer that could not start did not say it stopped")
	}
}
