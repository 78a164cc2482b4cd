package sim

import (
	"bytes"
	"context"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// TestLatencyDraw: half the draws fall below the median and 99% below
// the p99.
func TestLatencyDraw(t *testing.T) {
	l := Latency{Median: 100 * time.Millisecond, P99: time.Second}
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	belowMedian, belowP99 := 0, 0
	for range n {
		d := l.Draw(r)
		if d < l.Median {
			belowMedian++
		}
		if d < l.P99 {
			belowP99++
		}
	}
	if f := float64(belowMedian) / n; f < 0.48 || f > 0.52 {
		t.Errorf("%.3f of draws below the median, want 0.5", f)
	}
	if f := float64(belowP99) / n; f < 0.985 || f > 0.995 {
		t.Errorf("%.3f of draws below the p99, want 0.99", f)
	}
	if d := (Latency{Median: time.Second}).Draw(r); d != time.Second {
		t.Errorf("without a p99 every draw is the median, got %v", d)
	}
	if d := (Latency{}).Draw(r); d != 0 {
		t.Errorf("the zero Latency drew %v", d)
	}
}

// TestConfigValidate: each bad field is named, and New makes nothing.
func TestConfigValidate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sim")
	kc := func(string) ([]byte, error) { return nil, nil }
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Kubeconfig: kc, Dir: dir}, "Nodes"},
		{Config{Nodes: maxNodes + 1, Kubeconfig: kc, Dir: dir}, "Nodes"},
		{Config{Nodes: 1, Dir: dir}, "Kubeconfig"},
		{Config{Nodes: 1, Kubeconfig: kc, Dir: "relative"}, "Dir"},
		{Config{Nodes: 1, Kubeconfig: kc, Dir: dir, Workers: -1}, "Workers"},
		{Config{Nodes: 1, Kubeconfig: kc, Dir: dir, Usage: Usage{MilliCPU: -1}}, "Usage"},
		{Config{Nodes: 1, Kubeconfig: kc, Dir: dir, SyncPeriod: -time.Second}, "SyncPeriod"},
		{Config{Nodes: 1, Kubeconfig: kc, Dir: dir, StartLatency: Latency{P99: -1}}, "StartLatency"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v): %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a rejected Config made %s: %v", dir, err)
	}
	if err := (&Workload{Pods: 0}).Validate(); err == nil || !strings.Contains(err.Error(), "Pods") {
		t.Errorf("Workload{Pods: 0}: %v, want an error naming Pods", err)
	}
}

// TestSimRuntime: a container start waits for its drawn latency on the
// clock, and Stats report the container's simulated level of CPU and
// memory, not the fake runtime's busy core.
func TestSimRuntime(t *testing.T) {
	ctx := context.Background()
	clock := clockwork.NewFakeClock()
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithClock(clock))
	archive, err := ImageArchive()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ImportImage(ctx, bytes.NewReader(archive)); err != nil {
		t.Fatal(err)
	}
	usage := Usage{MilliCPU: 100, MemoryBytes: 64 << 20}
	sr := &simRuntime{Runtime: rt, clock: clock, latency: Latency{Median: 3 * time.Second}, usage: usage}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "p", Namespace: "default", UID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.RemoveSandbox(ctx, sb)
	id, err := sr.CreateContainer(ctx, sb, runtime.ContainerConfig{Name: "c", Image: Image, Args: []string{"wait"}})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- sr.StartContainer(ctx, id) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-started:
		t.Fatalf("the start returned before its latency: %v", err)
	default:
	}
	clock.Advance(3 * time.Second)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	st, err := sr.Stats(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	level := float64(st.MemoryWorkingSetBytes) / float64(usage.MemoryBytes)
	if level < 0.5 || level > 1.5 {
		t.Fatalf("working set %d is not within half to one and a half of %d", st.MemoryWorkingSetBytes, usage.MemoryBytes)
	}
	wantCPU := 10 * float64(time.Second) * 0.1 * level
	if got := float64(st.CPUUsageNanos); got < wantCPU*0.99 || got > wantCPU*1.01 {
		t.Errorf("CPU after 10s at %.0f%% of 100m: %.0f ns, want %.0f", level*100, got, wantCPU)
	}
}

// TestMutatingP99Parsing: only POST, PUT, PATCH and DELETE buckets of the
// exposition count.
func TestMutatingP99Parsing(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "apiserver_request_duration_seconds", Buckets: []float64{0.1, 1, 10}},
		[]string{"verb", "resource"})
	reg.MustRegister(h)
	for range 98 {
		h.WithLabelValues("POST", "pods").Observe(0.05)
	}
	h.WithLabelValues("PUT", "pods").Observe(5)
	h.WithLabelValues("PATCH", "nodes").Observe(5)
	for range 1000 {
		h.WithLabelValues("LIST", "pods").Observe(9) // not mutating
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	b, err := parseMutatingBuckets(&text)
	if err != nil {
		t.Fatal(err)
	}
	if b[0.1] != 98 || b[10] != 100 {
		t.Fatalf("buckets %v, want 98 under 0.1 s and 100 under 10 s", b)
	}
	// The 99th of 100 is halfway through (1, 10].
	if q := b.Quantile(0.99); q != 5500*time.Millisecond {
		t.Errorf("p99 %v, want 5.5s", q)
	}
}

// TestSamplerAndPlot: this process's samples have CPU time and memory,
// and they plot to a PNG.
func TestSamplerAndPlot(t *testing.T) {
	clock := clockwork.NewFakeClock()
	s, err := NewSampler(os.Getpid(), time.Second, clock)
	if err != nil {
		t.Fatal(err)
	}
	busy := 0
	for i := range 3_000_000 {
		busy += i % 7
	}
	clock.Advance(time.Second)
	if _, err := s.Read(); err != nil {
		t.Fatal(err)
	}
	smp := s.Samples()
	if len(smp) != 2 || smp[1].CPUSeconds < smp[0].CPUSeconds || smp[1].RSSBytes == 0 || s.PeakRSS() < smp[1].RSSBytes {
		t.Fatalf("samples %+v, peak %d (busy %d)", smp, s.PeakRSS(), busy)
	}
	var out bytes.Buffer
	if err := PlotPNG(&out, "test", smp); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&out)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
		t.Errorf("plot of %v, want a readable size", b)
	}
	if err := PlotPNG(&out, "test", smp[:1]); err == nil {
		t.Error("plotting one sample: no error")
	}
	if _, err := NewSampler(os.Getpid(), 0, clock); err == nil {
		t.Error("a zero interval: no error")
	}
}
