package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/setpoint-dev/setpoint/examples/cluster/sim"
)

// report is the figures of a run.
type report struct {
	Nodes, Pods     int
	NodesReadyAfter time.Duration
	HeapPerNode     uint64
	RunningAfter    time.Duration
	MutatingP99     time.Duration
	CPUSeconds      float64 // the control plane's, during the workload
	PeakRSS         uint64
	Measured        string // what CPUSeconds and PeakRSS measure
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "nodes                         %d (Ready after %.1f s; Go heap per idle node %d KiB)\n", r.Nodes, r.NodesReadyAfter.Seconds(), r.HeapPerNode>>10)
	fmt.Fprintf(w, "pods Running                  %d\n", r.Pods)
	fmt.Fprintf(w, "seconds to all Running        %.1f\n", r.RunningAfter.Seconds())
	fmt.Fprintf(w, "p99 mutating request latency  %d ms (apiserver_request_duration_seconds, POST/PUT/PATCH/DELETE, during the run)\n", r.MutatingP99.Milliseconds())
	if r.PeakRSS > 0 {
		fmt.Fprintf(w, "control plane peak RSS        %d MiB (%s)\n", r.PeakRSS>>20, r.Measured)
		fmt.Fprintf(w, "control plane CPU             %.1f s over the run\n", r.CPUSeconds)
		if r.CPUSeconds > 0 {
			fmt.Fprintf(w, "pods per CPU-second           %.1f\n", float64(r.Pods)/r.CPUSeconds)
		}
	}
}

// write puts the figures in dir/report.txt and, with a sampler, the plot
// in dir/cpu-mem.png.
func (r *report) write(dir string, sampler *sim.Sampler) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	r.print(&b)
	if err := os.WriteFile(filepath.Join(dir, "report.txt"), b.Bytes(), 0o644); err != nil {
		return err
	}
	if sampler == nil {
		return nil
	}
	var png bytes.Buffer
	title := fmt.Sprintf("control plane: %d simulated nodes, %d pods", r.Nodes, r.Pods)
	if err := sim.PlotPNG(&png, title, sampler.Samples()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cpu-mem.png"), png.Bytes(), 0o644)
}
