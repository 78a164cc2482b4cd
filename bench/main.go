// Command bench runs setpoint's benchmarks side by side with their anchors
// (client-go, etcd's concurrency package, raw etcd, raw containerd), measured in
// the same run on the same machine, and prints one line per comparison:
//
//	BENCH <name> ours=<value> anchor=<value> ratio=<ours/anchor> unit=<unit> better=<higher|lower>
//
// Absolute figures with no anchor print anchor=- ratio=-.
//
// Usage: go run . [-run REGEXP] [-list]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"time"
)

// Result is one comparison.
type Result struct {
	Name   string
	Ours   float64
	Anchor float64 // 0: no anchor (an absolute figure)
	Unit   string
	// HigherIsBetter says which direction is better.
	HigherIsBetter bool
}

// Line formats r in the BENCH line format.
func (r Result) Line() string {
	better := "lower"
	if r.HigherIsBetter {
		better = "higher"
	}
	anchor, ratio := "-", "-"
	if r.Anchor != 0 {
		anchor = num(r.Anchor)
		ratio = strconv.FormatFloat(r.Ours/r.Anchor, 'f', 3, 64)
	}
	return fmt.Sprintf("BENCH %s ours=%s anchor=%s ratio=%s unit=%s better=%s", r.Name, num(r.Ours), anchor, ratio, r.Unit, better)
}

func num(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// benchmark runs one area's comparisons and returns their results.
type benchmark struct {
	name string
	run  func(ctx context.Context) ([]Result, error)
}

var benchmarks []benchmark

// register adds a benchmark; each area's file calls it from init.
func register(name string, run func(ctx context.Context) ([]Result, error)) {
	benchmarks = append(benchmarks, benchmark{name, run})
}

func main() {
	pattern := flag.String("run", ".", "run only benchmarks whose name matches this regular expression")
	list := flag.Bool("list", false, "list the benchmarks and exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (in-process parts only) to this file")
	flag.Parse()
	re, err := regexp.Compile(*pattern)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: bad -run:", err)
		os.Exit(2)
	}
	sort.Slice(benchmarks, func(i, j int) bool { return benchmarks[i].name < benchmarks[j].name })
	if *list {
		for _, b := range benchmarks {
			fmt.Println(b.name)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	failed := false
	for _, b := range benchmarks {
		if !re.MatchString(b.name) {
			continue
		}
		start := time.Now()
		results, err := b.run(ctx)
		for _, r := range results {
			fmt.Println(r.Line())
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", b.name, err)
			failed = true
		}
		fmt.Fprintf(os.Stderr, "bench %s took %v\n", b.name, time.Since(start).Round(time.Millisecond))
	}
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
