package reconcile_test

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/reconcile"
)

func TestNewMetricsErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := reconcile.NewMetrics(nil, "x"); !errors.Is(err, reconcile.ErrInvalidConfig) {
		t.Fatalf("nil registerer: %v", err)
	}
	if _, err := reconcile.NewMetrics(reg, ""); !errors.Is(err, reconcile.ErrInvalidConfig) {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := reconcile.NewMetrics(reg, "x"); err != nil {
		t.Fatal(err)
	}
	before, _ := reg.Gather()
	_, err := reconcile.NewMetrics(reg, "x")
	if err == nil {
		t.Fatal("registering the same name twice succeeded")
	}
	after, _ := reg.Gather()
	if len(before) != len(after) {
		t.Fatalf("failed registration changed the registry: %d families before, %d after", len(before), len(after))
	}
	if _, err := reconcile.NewMetrics(reg, "y"); err != nil {
		t.Fatalf("second controller on the same registry: %v", err)
	}
}
