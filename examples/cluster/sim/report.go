package sim

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/setpoint-dev/setpoint/examples/client"
)

// Sample is one reading of a process's resource use.
type Sample struct {
	// At is when it was read.
	At time.Time
	// CPUSeconds is the process's cumulative user and system CPU time.
	CPUSeconds float64
	// RSSBytes is its resident memory.
	RSSBytes uint64
}

// Sampler reads a process's CPU time and resident memory from /proc at a
// fixed interval, for a report of the control plane over a run.
type Sampler struct {
	proc     procfs.Proc
	clock    clockwork.Clock
	interval time.Duration

	mu      sync.Mutex
	samples []Sample
	peak    uint64
}

// NewSampler returns a Sampler of process pid, reading every interval of
// clock (the real clock when nil); it fails when the process cannot be
// read.
func NewSampler(pid int, interval time.Duration, clock clockwork.Clock) (*Sampler, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("sim: sampler interval must be positive, got %v", interval)
	}
	p, err := procfs.NewProc(pid)
	if err != nil {
		return nil, fmt.Errorf("sim: sampling process %d: %w", pid, err)
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	s := &Sampler{proc: p, clock: clock, interval: interval}
	if _, err := s.Read(); err != nil {
		return nil, err
	}
	return s, nil
}

// Read takes one sample now and records it.
func (s *Sampler) Read() (Sample, error) {
	st, err := s.proc.Stat()
	if err != nil {
		return Sample{}, fmt.Errorf("sim: reading /proc/%d/stat: %w", s.proc.PID, err)
	}
	smp := Sample{At: s.clock.Now(), CPUSeconds: st.CPUTime(), RSSBytes: uint64(st.ResidentMemory())}
	peak := smp.RSSBytes
	if status, err := s.proc.NewStatus(); err == nil && status.VmHWM > peak {
		peak = status.VmHWM // the kernel's peak, also between samples
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, smp)
	s.peak = max(s.peak, peak)
	return smp, nil
}

// Run samples every interval until ctx ends.
func (s *Sampler) Run(ctx context.Context) error {
	t := s.clock.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
			if _, err := s.Read(); err != nil {
				return err
			}
		}
	}
}

// Samples returns the samples so far, oldest first.
func (s *Sampler) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...)
}

// PeakRSS returns the highest resident memory seen (the kernel's VmHWM
// when readable, which covers the time between samples).
func (s *Sampler) PeakRSS() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// PlotPNG writes a PNG of samples to w: the process's CPU use in cores
// (the rate between consecutive samples) and its resident memory in GiB
// over the seconds since the first sample, one panel above the other.
func PlotPNG(w io.Writer, title string, samples []Sample) error {
	if len(samples) < 2 {
		return fmt.Errorf("sim: plotting needs at least two samples, got %d", len(samples))
	}
	cpu, mem := make(plotter.XYs, 0, len(samples)-1), make(plotter.XYs, 0, len(samples))
	t0 := samples[0].At
	for i, s := range samples {
		x := s.At.Sub(t0).Seconds()
		mem = append(mem, plotter.XY{X: x, Y: float64(s.RSSBytes) / (1 << 30)})
		if i > 0 {
			if dt := s.At.Sub(samples[i-1].At).Seconds(); dt > 0 {
				cpu = append(cpu, plotter.XY{X: x, Y: (s.CPUSeconds - samples[i-1].CPUSeconds) / dt})
			}
		}
	}
	plots := [][]*plot.Plot{{nil}, {nil}}
	for i, panel := range []struct {
		pts          plotter.XYs
		ylabel, name string
	}{{cpu, "CPU (cores)", "CPU"}, {mem, "resident memory (GiB)", "RSS"}} {
		p := plot.New()
		if i == 0 {
			p.Title.Text = title
		}
		p.X.Label.Text, p.Y.Label.Text = "seconds", panel.ylabel
		p.Y.Min = 0
		line, err := plotter.NewLine(panel.pts)
		if err != nil {
			return fmt.Errorf("sim: plotting %s: %w", panel.name, err)
		}
		p.Add(line, plotter.NewGrid())
		plots[i][0] = p
	}
	img := vgimg.New(8*vg.Inch, 6*vg.Inch)
	dc := draw.New(img)
	canvases := plot.Align(plots, draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadY: vg.Points(8),
		PadLeft: vg.Points(4), PadRight: vg.Points(8)}, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("sim: writing the plot: %w", err)
	}
	return nil
}

// MutatingP99 reads the apiserver's request duration histogram
// (apiserver_request_duration_seconds) at /metrics through cs and returns
// the 99th percentile of mutating requests (POST, PUT, PATCH, DELETE)
// observed since before (nil: since the server started), by linear
// interpolation within the bucket as Prometheus' histogram_quantile does,
// and the buckets now, to pass as before to a later call.
func MutatingP99(ctx context.Context, cs *client.Clientset, before Buckets) (time.Duration, Buckets, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cs.Server(), "/")+"/metrics", nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := cs.HTTPClient().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sim: reading the apiserver's /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("sim: reading the apiserver's /metrics: %s", resp.Status)
	}
	now, err := parseMutatingBuckets(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	delta := Buckets{}
	for le, n := range now {
		delta[le] = n - before[le]
	}
	return delta.Quantile(0.99), now, nil
}

// Buckets are cumulative histogram counts by upper bound (seconds;
// +Inf included).
type Buckets map[float64]float64

// Quantile returns the q-quantile of b (0 when b is empty), interpolating
// linearly within the bucket; in the +Inf bucket it is the highest finite
// bound.
func (b Buckets) Quantile(q float64) time.Duration {
	les := make([]float64, 0, len(b))
	for le := range b {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || b[les[len(les)-1]] <= 0 {
		return 0
	}
	rank := q * b[les[len(les)-1]]
	lower, below := 0.0, 0.0
	for _, le := range les {
		if b[le] >= rank {
			if math.IsInf(le, 1) {
				return seconds(lower)
			}
			if b[le] == below {
				return seconds(le)
			}
			return seconds(lower + (le-lower)*(rank-below)/(b[le]-below))
		}
		lower, below = le, b[le]
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// parseMutatingBuckets sums the buckets of mutating verbs in a
// Prometheus text exposition.
func parseMutatingBuckets(r io.Reader) (Buckets, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("sim: parsing the apiserver's /metrics: %w", err)
	}
	b := Buckets{}
	mf, ok := mfs["apiserver_request_duration_seconds"]
	if !ok {
		return b, nil
	}
	for _, m := range mf.GetMetric() {
		verb := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "verb" {
				verb = l.GetValue()
			}
		}
		switch verb {
		case "POST", "PUT", "PATCH", "DELETE":
		default:
			continue
		}
		h := m.GetHistogram()
		for _, bk := range h.GetBucket() {
			if !math.IsInf(bk.GetUpperBound(), 1) { // counted below
				b[bk.GetUpperBound()] += float64(bk.GetCumulativeCount())
			}
		}
		b[math.Inf(1)] += float64(h.GetSampleCount())
	}
	return b, nil
}
