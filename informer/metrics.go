package informer

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// stats are an informer's counters, read by the metrics collector.
type stats struct {
	lists      atomic.Uint64
	listErrors atomic.Uint64
	watches    atomic.Uint64
	relists    atomic.Uint64
}

// metricSource is what the collector reads from one informer.
type metricSource interface {
	metricSample() metricSample
}

type metricSample struct {
	name                         string
	lists, listErrors, watches   uint64
	relists                      uint64
	revision                     int64
	objects, queueDepth, handler int
}

func (inf *Informer[T]) metricSample() metricSample {
	s := metricSample{
		name:       inf.cfg.Name,
		lists:      inf.stats.lists.Load(),
		listErrors: inf.stats.listErrors.Load(),
		watches:    inf.stats.watches.Load(),
		relists:    inf.stats.relists.Load(),
		revision:   inf.cache.Revision(),
		objects:    inf.cache.Len(),
	}
	inf.dmu.Lock()
	ls := inf.listeners
	inf.dmu.Unlock()
	for _, l := range ls {
		s.queueDepth += l.depth()
	}
	s.handler = len(ls)
	return s
}

// metricDefs lists every metric: name, help, counter or gauge.
var metricDefs = []struct {
	name, help string
	counter    bool
}{
	{"setpoint_informer_lists_total", "Lists (all pages of one consistent list) the informer started.", true},
	{"setpoint_informer_list_errors_total", "Lists that failed.", true},
	{"setpoint_informer_watches_total", "Watches the informer started.", true},
	{"setpoint_informer_relists_total", "Relists forced by a watch whose revision was gone.", true},
	{"setpoint_informer_last_synced_revision", "Store revision the cache reflects.", false},
	{"setpoint_informer_objects", "Objects in the cache.", false},
	{"setpoint_informer_handler_queue_depth", "Events queued for the informer's handlers and not yet handled, summed over handlers.", false},
	{"setpoint_informer_handlers", "Registered handlers.", false},
}

// collector exports the metrics of one informer (checked: its descriptors
// carry the informer's name as a constant label, so a second informer with
// the same name on one registry is refused) or of a factory's changing set
// of informers (unchecked: the name is a variable label).
type collector struct {
	each  func(yield func(metricSource))
	descs []*prometheus.Desc
	fixed bool // descs have a constant informer label
}

var _ prometheus.Collector = (*collector)(nil)

// newCollector returns a collector over the informers each yields. With a
// non-empty name it is the checked collector of that one informer.
func newCollector(name string, each func(yield func(metricSource))) *collector {
	c := &collector{each: each, fixed: name != ""}
	for _, d := range metricDefs {
		if c.fixed {
			c.descs = append(c.descs, prometheus.NewDesc(d.name, d.help, nil, prometheus.Labels{"informer": name}))
		} else {
			c.descs = append(c.descs, prometheus.NewDesc(d.name, d.help, []string{"informer"}, nil))
		}
	}
	return c
}

// Describe sends the descriptors of a single informer's collector, and
// nothing for a factory's (an unchecked collector).
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	if !c.fixed {
		return
	}
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads each informer's current values.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.each(func(src metricSource) {
		s := src.metricSample()
		vals := []float64{float64(s.lists), float64(s.listErrors), float64(s.watches), float64(s.relists),
			float64(s.revision), float64(s.objects), float64(s.queueDepth), float64(s.handler)}
		var labels []string
		if !c.fixed {
			labels = []string{s.name}
		}
		for i, d := range metricDefs {
			typ := prometheus.GaugeValue
			if d.counter {
				typ = prometheus.CounterValue
			}
			ch <- prometheus.MustNewConstMetric(c.descs[i], typ, vals[i], labels...)
		}
	})
}
