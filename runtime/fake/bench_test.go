package fake_test

import (
	"bytes"
	"context"
	"fmt"
	goruntime "runtime"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// BenchmarkPodStart measures running a pod (sandbox and one container) on
// the fake, and reports the memory a running pod holds.
func BenchmarkPodStart(b *testing.B) {
	ctx := context.Background()
	rt := fake.New()
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(b))); err != nil {
		b.Fatal(err)
	}
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: fmt.Sprintf("p%d", i), Namespace: "default", UID: fmt.Sprint(i)})
		if err != nil {
			b.Fatal(err)
		}
		id, err := rt.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "app", Image: runtimetest.TestImageName, Args: []string{"wait"}})
		if err != nil {
			b.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/pod")
	sbs, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	for _, s := range sbs {
		rt.RemoveSandbox(ctx, s.ID)
	}
}
