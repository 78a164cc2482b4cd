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

var (
	descLists = prometheus.NewDesc("setpoint_informer_lists_total",
		"Lists (full, all pages) the informer started.", []string{"informer"}, nil)
	descListErrors = prometheus.NewDesc("setpoint_informer_list_errors_total",
		"Lists that failed.", []string{"informer"}, nil)
	descWatches = prometheus.NewDesc("setpoint_informer_watches_total",
		"Watches the informer started.", []string{"informer"}, nil)
	descRelists = prometheus.NewDesc("setpoint_informer_relists_total",
		"Relists forced by a watch whose revision was gone.", []string{"informer"}, nil)
	descRevision = prometheus.NewDesc("setpoint_informer_last_synced_revision",
		"Store revision the cache reflects.", []string{"informer"}, nil)
	descObjects = prometheus.NewDesc("setpoint_informer_objects",
		"Objects in the cache.", []string{"informer"}, nil)
	descQueue = prometheus.NewDesc("setpoint_informer_handler_queue_depth",
		"Events queued for the informer's handlers, summed over handlers.", []string{"informer"}, nil)
	descHandlers = prometheus.NewDesc("setpoint_informer_handlers",
		"Registered handlers.", []string{"informer"}, nil)
)

// collector exports the metrics of a set of informers (one, or a factory's).
type collector struct {
	each func(yield func(metricSource))
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(each func(yield func(metricSource))) *collector {
	return &collector{each: each}
}

// Describe sends every metric descriptor.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLists, descListErrors, descWatches, descRelists, descRevision, descObjects, descQueue, descHandlers} {
		ch <- d
	}
}

// Collect reads each informer's current values.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.each(func(src metricSource) {
		s := src.metricSample()
		ch <- prometheus.MustNewConstMetric(descLists, prometheus.CounterValue, float64(s.lists), s.name)
		ch <- prometheus.MustNewConstMetric(descListErrors, prometheus.CounterValue, float64(s.listErrors), s.name)
		ch <- prometheus.MustNewConstMetric(descWatches, prometheus.CounterValue, float64(s.watches), s.name)
		ch <- prometheus.MustNewConstMetric(descRelists, prometheus.CounterValue, float64(s.relists), s.name)
		ch <- prometheus.MustNewConstMetric(descRevision, prometheus.GaugeValue, float64(s.revision), s.name)
		ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(s.objects), s.name)
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.queueDepth), s.name)
		ch <- prometheus.MustNewConstMetric(descHandlers, prometheus.GaugeValue, float64(s.handler), s.name)
	})
}
