package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/metrics"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// The resource metrics API (metrics.k8s.io/v1beta1) is served from the
// kubelets' /stats/summary, scraped every MetricsResolution like
// metrics-server does: CPU usage is the rate of the cumulative CPU time
// between a source's last two scrapes (so a node or pod appears after its
// second scrape), memory the last working set.
const (
	metricsGroupVersion = "metrics.k8s.io/v1beta1"
	// DefaultMetricsResolution is how often kubelets are scraped
	// (metrics-server's default).
	DefaultMetricsResolution = 15 * time.Second
)

// metricsResources is the discovery document of metrics.k8s.io/v1beta1.
func metricsResources() *api.APIResourceList {
	return &api.APIResourceList{TypeMeta: store.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: metricsGroupVersion,
		Resources: []api.APIResource{
			{Name: "nodes", Kind: "NodeMetrics", Verbs: []string{"get", "list"}},
			{Name: "pods", Namespaced: true, Kind: "PodMetrics", Verbs: []string{"get", "list"}},
		}}
}

// summary is the part of the kubelet's Summary API the scraper reads.
type summary struct {
	Node struct {
		NodeName string       `json:"nodeName"`
		CPU      *cpuUsage    `json:"cpu"`
		Memory   *memoryUsage `json:"memory"`
	} `json:"node"`
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		Containers []struct {
			Name   string       `json:"name"`
			CPU    *cpuUsage    `json:"cpu"`
			Memory *memoryUsage `json:"memory"`
		} `json:"containers"`
	} `json:"pods"`
}

type cpuUsage struct {
	Time                 store.Time `json:"time"`
	UsageCoreNanoSeconds *uint64    `json:"usageCoreNanoSeconds"`
}

type memoryUsage struct {
	WorkingSetBytes *uint64 `json:"workingSetBytes"`
}

// cpuPoint is one cumulative CPU reading.
type cpuPoint struct {
	at    time.Time
	total uint64
}

// usage is a source's latest usage: rate between two readings.
type usage struct {
	ok        bool
	timestamp time.Time
	window    time.Duration
	cpuMilli  int64
	memory    int64
}

// metricsScraper scrapes kubelets and keeps the latest metrics.
type metricsScraper struct {
	proxy    *kubeletProxy
	clock    clockwork.Clock
	interval time.Duration
	log      *slog.Logger

	mu   sync.Mutex
	last map[string]cpuPoint // by source: "node/<n>" or "pod/<ns>/<p>/<c>"
	// the metrics of the last complete round
	nodes map[string]metrics.NodeMetrics
	pods  map[string]metrics.PodMetrics // by namespace/name
}

func newMetricsScraper(p *kubeletProxy, clock clockwork.Clock, interval time.Duration, log *slog.Logger) *metricsScraper {
	return &metricsScraper{proxy: p, clock: clock, interval: interval, log: log, last: map[string]cpuPoint{},
		nodes: map[string]metrics.NodeMetrics{}, pods: map[string]metrics.PodMetrics{}}
}

// run scrapes every interval until ctx ends.
func (m *metricsScraper) run(ctx context.Context) error {
	t := m.clock.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
			m.scrape(ctx)
		}
	}
}

// scrape reads every node's summary (a few at a time) and replaces the
// served metrics.
func (m *metricsScraper) scrape(ctx context.Context) {
	nodes, err := m.proxy.nodes.List(ctx, "", store.ListOptions{})
	if err != nil {
		m.log.Warn("metrics: listing nodes", "err", err)
		return
	}
	sums := make([]*summary, len(nodes.Items))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, n := range nodes.Items {
		g.Go(func() error {
			s, err := m.fetch(gctx, n.Name)
			if err != nil {
				m.log.Debug("metrics: scraping kubelet", "node", n.Name, "err", err)
				return nil
			}
			sums[i] = s
			return nil
		})
	}
	_ = g.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	nodeMetrics, podMetrics := map[string]metrics.NodeMetrics{}, map[string]metrics.PodMetrics{}
	seen := map[string]bool{}
	for _, s := range sums {
		if s == nil {
			continue
		}
		if u := m.observe(seen, "node/"+s.Node.NodeName, s.Node.CPU, s.Node.Memory); u.ok {
			nodeMetrics[s.Node.NodeName] = metrics.NodeMetrics{TypeMeta: store.TypeMeta{Kind: "NodeMetrics", APIVersion: metricsGroupVersion},
				ObjectMeta: store.ObjectMeta{Name: s.Node.NodeName, CreationTimestamp: store.NewTime(m.clock.Now())},
				Timestamp:  store.NewTime(u.timestamp), Window: api.Duration{Duration: u.window}, Usage: u.resources()}
		}
		for _, p := range s.Pods {
			pm := metrics.PodMetrics{TypeMeta: store.TypeMeta{Kind: "PodMetrics", APIVersion: metricsGroupVersion},
				ObjectMeta: store.ObjectMeta{Name: p.PodRef.Name, Namespace: p.PodRef.Namespace, CreationTimestamp: store.NewTime(m.clock.Now())},
				Containers: []metrics.ContainerMetrics{}}
			complete := len(p.Containers) > 0
			for _, c := range p.Containers {
				u := m.observe(seen, "pod/"+p.PodRef.Namespace+"/"+p.PodRef.Name+"/"+c.Name, c.CPU, c.Memory)
				if !u.ok {
					complete = false
					continue
				}
				pm.Timestamp, pm.Window = store.NewTime(u.timestamp), api.Duration{Duration: u.window}
				pm.Containers = append(pm.Containers, metrics.ContainerMetrics{Name: c.Name, Usage: u.resources()})
			}
			if complete {
				sort.Slice(pm.Containers, func(i, j int) bool { return pm.Containers[i].Name < pm.Containers[j].Name })
				podMetrics[p.PodRef.Namespace+"/"+p.PodRef.Name] = pm
			}
		}
	}
	for k := range m.last {
		if !seen[k] {
			delete(m.last, k)
		}
	}
	m.nodes, m.pods = nodeMetrics, podMetrics
}

// observe records a reading of source and returns its usage since the
// previous one.
func (m *metricsScraper) observe(seen map[string]bool, source string, cpu *cpuUsage, mem *memoryUsage) usage {
	if cpu == nil || cpu.UsageCoreNanoSeconds == nil || mem == nil || mem.WorkingSetBytes == nil {
		return usage{}
	}
	seen[source] = true
	now := cpuPoint{at: cpu.Time.Time, total: *cpu.UsageCoreNanoSeconds}
	prev, ok := m.last[source]
	m.last[source] = now
	if !ok || !now.at.After(prev.at) || now.total < prev.total {
		return usage{}
	}
	window := now.at.Sub(prev.at)
	nanoCores := float64(now.total-prev.total) / window.Seconds()
	return usage{ok: true, timestamp: now.at, window: window, cpuMilli: int64(nanoCores / 1e6), memory: int64(*mem.WorkingSetBytes)}
}

func (u usage) resources() api.ResourceList {
	return api.ResourceList{api.ResourceCPU: api.NewMilliQuantity(u.cpuMilli, api.DecimalSI),
		api.ResourceMemory: api.NewQuantity(u.memory, api.BinarySI)}
}

// fetch GETs node's /stats/summary.
func (m *metricsScraper) fetch(ctx context.Context, node string) (*summary, error) {
	req := (&http.Request{Method: http.MethodGet, URL: &url.URL{}, Header: http.Header{}}).WithContext(ctx)
	loc, err := m.proxy.kubeletURL(req, node)
	if err != nil {
		return nil, err
	}
	loc.Path = "/stats/summary"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.proxy.transport.RoundTrip(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("GET %s: %s: %s", loc, resp.Status, b)
	}
	var s summary
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&s); err != nil {
		return nil, fmt.Errorf("GET %s: %w", loc, err)
	}
	if s.Node.NodeName == "" {
		s.Node.NodeName = node
	}
	return &s, nil
}

// ServeHTTP serves the metrics.k8s.io/v1beta1 nodes and pods (get and
// list; a label selector on list selects by the node's or pod's labels).
func (m *metricsScraper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	if info.Verb != "get" && info.Verb != "list" {
		rest.WriteError(w, watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s of %s only supports get and list", metricsGroupVersion, info.Resource)))
		return
	}
	sel, err := store.ParseSelector(r.URL.Query().Get("labelSelector"))
	if err != nil {
		rest.WriteError(w, watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, err.Error()))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch info.Resource {
	case "nodes":
		if info.Name != "" {
			nm, ok := m.nodes[info.Name]
			if !ok {
				rest.WriteError(w, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound,
					fmt.Sprintf("nodemetrics.metrics.k8s.io %q not found", info.Name)))
				return
			}
			writeJSON(w, nm)
			return
		}
		list := metrics.NodeMetricsList{TypeMeta: store.TypeMeta{Kind: "NodeMetricsList", APIVersion: metricsGroupVersion}, Items: []metrics.NodeMetrics{}}
		for name, nm := range m.nodes {
			if sel.Empty() || m.labelsMatch(r.Context(), "", name, sel) {
				list.Items = append(list.Items, nm)
			}
		}
		sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
		writeJSON(w, list)
	case "pods":
		if info.Name != "" {
			pm, ok := m.pods[info.Namespace+"/"+info.Name]
			if !ok {
				rest.WriteError(w, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound,
					fmt.Sprintf("podmetrics.metrics.k8s.io %q not found", info.Namespace+"/"+info.Name)))
				return
			}
			writeJSON(w, pm)
			return
		}
		list := metrics.PodMetricsList{TypeMeta: store.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsGroupVersion}, Items: []metrics.PodMetrics{}}
		for _, pm := range m.pods {
			if info.Namespace != "" && pm.Namespace != info.Namespace {
				continue
			}
			if sel.Empty() || m.labelsMatch(r.Context(), pm.Namespace, pm.Name, sel) {
				list.Items = append(list.Items, pm)
			}
		}
		sort.Slice(list.Items, func(i, j int) bool {
			return list.Items[i].Namespace+"/"+list.Items[i].Name < list.Items[j].Namespace+"/"+list.Items[j].Name
		})
		writeJSON(w, list)
	default:
		rest.WriteError(w, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, "the server could not find the requested resource"))
	}
}

// labelsMatch reads the node (namespace "") or pod and matches its labels.
func (m *metricsScraper) labelsMatch(ctx context.Context, namespace, name string, sel store.Selector) bool {
	if namespace == "" {
		n, err := m.proxy.nodes.Get(ctx, "", name)
		return err == nil && sel.Matches(n.Labels)
	}
	p, err := m.proxy.pods.Get(ctx, namespace, name)
	return err == nil && sel.Matches(p.Labels)
}
