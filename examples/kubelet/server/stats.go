package server

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/procfs"

	"github.com/setpoint-dev/setpoint/store"
)

// The Summary API (the kubelet's stats/v1alpha1): the JSON names are
// Kubernetes'.

// Summary is what /stats/summary returns.
type Summary struct {
	// Node is the node's usage.
	Node NodeStats `json:"node"`
	// Pods is the usage of each pod with a sandbox.
	Pods []PodStats `json:"pods"`
}

// NodeStats is the node's usage.
type NodeStats struct {
	NodeName  string        `json:"nodeName"`
	StartTime store.Time    `json:"startTime"`
	CPU       *CPUStats     `json:"cpu,omitempty"`
	Memory    *MemoryStats  `json:"memory,omitempty"`
	Network   *NetworkStats `json:"network,omitempty"`
	Fs        *FsStats      `json:"fs,omitempty"`
}

// CPUStats is CPU usage: cumulative, and a rate over the last two reads.
type CPUStats struct {
	Time                 store.Time `json:"time"`
	UsageNanoCores       *uint64    `json:"usageNanoCores,omitempty"`
	UsageCoreNanoSeconds *uint64    `json:"usageCoreNanoSeconds,omitempty"`
}

// MemoryStats is memory usage.
type MemoryStats struct {
	Time            store.Time `json:"time"`
	AvailableBytes  *uint64    `json:"availableBytes,omitempty"`
	UsageBytes      *uint64    `json:"usageBytes,omitempty"`
	WorkingSetBytes *uint64    `json:"workingSetBytes,omitempty"`
}

// InterfaceStats is one interface's traffic.
type InterfaceStats struct {
	Name     string  `json:"name"`
	RxBytes  *uint64 `json:"rxBytes,omitempty"`
	RxErrors *uint64 `json:"rxErrors,omitempty"`
	TxBytes  *uint64 `json:"txBytes,omitempty"`
	TxErrors *uint64 `json:"txErrors,omitempty"`
}

// NetworkStats is network usage: the default interface inline, and all.
type NetworkStats struct {
	Time store.Time `json:"time"`
	InterfaceStats
	Interfaces []InterfaceStats `json:"interfaces,omitempty"`
}

// FsStats is a filesystem's usage.
type FsStats struct {
	Time           store.Time `json:"time"`
	AvailableBytes *uint64    `json:"availableBytes,omitempty"`
	CapacityBytes  *uint64    `json:"capacityBytes,omitempty"`
	UsedBytes      *uint64    `json:"usedBytes,omitempty"`
	InodesFree     *uint64    `json:"inodesFree,omitempty"`
	Inodes         *uint64    `json:"inodes,omitempty"`
	InodesUsed     *uint64    `json:"inodesUsed,omitempty"`
}

// PodReference names a pod.
type PodReference struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	UID       string `json:"uid"`
}

// PodStats is one pod's usage: the sum of its containers, and its
// sandbox's network.
type PodStats struct {
	PodRef     PodReference     `json:"podRef"`
	StartTime  store.Time       `json:"startTime"`
	Containers []ContainerStats `json:"containers"`
	CPU        *CPUStats        `json:"cpu,omitempty"`
	Memory     *MemoryStats     `json:"memory,omitempty"`
	Network    *NetworkStats    `json:"network,omitempty"`
}

// ContainerStats is one running container's usage.
type ContainerStats struct {
	Name      string       `json:"name"`
	StartTime store.Time   `json:"startTime"`
	CPU       *CPUStats    `json:"cpu,omitempty"`
	Memory    *MemoryStats `json:"memory,omitempty"`
}

// statsCache keeps the last cumulative CPU reading of each source, to
// report usageNanoCores as the rate since then.
type statsCache struct {
	host  Host
	clock clockwork.Clock
	mu    sync.Mutex
	last  map[string]cpuSample
}

type cpuSample struct {
	at    time.Time
	total uint64
}

func newStatsCache(h Host, c clockwork.Clock) *statsCache {
	return &statsCache{host: h, clock: c, last: map[string]cpuSample{}}
}

// cpu builds CPUStats for source key from a cumulative reading at.
func (c *statsCache) cpu(key string, at time.Time, total uint64) *CPUStats {
	st := &CPUStats{Time: store.NewTime(at), UsageCoreNanoSeconds: ptr(total)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.last[key]; ok && at.After(prev.at) && total >= prev.total {
		st.UsageNanoCores = ptr(uint64(float64(total-prev.total) / at.Sub(prev.at).Seconds()))
	}
	c.last[key] = cpuSample{at: at, total: total}
	return st
}

func ptr[T any](v T) *T { return &v }

// summary reads the node's and its pods' usage.
func (c *statsCache) summary(ctx context.Context) (Summary, error) {
	sum := Summary{Node: NodeStats{NodeName: c.host.NodeName()}, Pods: []PodStats{}}
	if err := c.nodeStats(&sum.Node); err != nil {
		return sum, err
	}
	rt := c.host.Runtime()
	seen := map[string]bool{}
	for _, pod := range c.host.Pods() {
		_, h, err := c.host.Pod(ctx, pod.Namespace, pod.Name)
		if err != nil || h.SandboxID == "" {
			continue
		}
		ps := PodStats{PodRef: PodReference{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID)}, Containers: []ContainerStats{}}
		if pod.Status.StartTime != nil {
			ps.StartTime = *pod.Status.StartTime
		}
		var cpuTotal, memUsage, memWS uint64
		var at time.Time
		for name, id := range h.Containers {
			cs, err := rt.ContainerStatus(ctx, id)
			if err != nil || cs.State != "Running" {
				continue
			}
			st, err := rt.Stats(ctx, id)
			if err != nil {
				continue
			}
			seen[id] = true
			at = st.Timestamp
			cpuTotal += st.CPUUsageNanos
			memUsage += st.MemoryUsageBytes
			memWS += st.MemoryWorkingSetBytes
			ps.Containers = append(ps.Containers, ContainerStats{Name: name, StartTime: store.NewTime(cs.StartedAt),
				CPU: c.cpu(id, st.Timestamp, st.CPUUsageNanos),
				Memory: &MemoryStats{Time: store.NewTime(st.Timestamp), UsageBytes: ptr(st.MemoryUsageBytes),
					WorkingSetBytes: ptr(st.MemoryWorkingSetBytes)}})
		}
		if !at.IsZero() {
			seen["pod/"+string(pod.UID)] = true
			ps.CPU = c.cpu("pod/"+string(pod.UID), at, cpuTotal)
			ps.Memory = &MemoryStats{Time: store.NewTime(at), UsageBytes: ptr(memUsage), WorkingSetBytes: ptr(memWS)}
		}
		if ns, err := rt.SandboxStats(ctx, h.SandboxID); err == nil && len(ns.Interfaces) > 0 {
			net := &NetworkStats{Time: store.NewTime(ns.Timestamp)}
			for _, i := range ns.Interfaces {
				net.Interfaces = append(net.Interfaces, InterfaceStats{Name: i.Name, RxBytes: ptr(i.RxBytes),
					RxErrors: ptr(i.RxErrors), TxBytes: ptr(i.TxBytes), TxErrors: ptr(i.TxErrors)})
			}
			net.InterfaceStats = net.Interfaces[0]
			ps.Network = net
		}
		sum.Pods = append(sum.Pods, ps)
	}
	c.forget(seen)
	return sum, nil
}

// forget drops the samples of sources no longer seen (the node's stays).
func (c *statsCache) forget(seen map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.last {
		if k != "node" && !seen[k] {
			delete(c.last, k)
		}
	}
}

// nodeStats reads the machine's CPU, memory, network and root filesystem.
func (c *statsCache) nodeStats(n *NodeStats) error {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return err
	}
	now := time.Now()
	stat, err := fs.Stat()
	if err != nil {
		return err
	}
	n.StartTime = store.NewTime(time.Unix(int64(stat.BootTime), 0))
	t := stat.CPUTotal
	busy := t.User + t.Nice + t.System + t.IRQ + t.SoftIRQ + t.Steal
	n.CPU = c.cpu("node", now, uint64(busy*1e9))
	mi, err := fs.Meminfo()
	if err != nil {
		return err
	}
	if mi.MemTotalBytes != nil && mi.MemAvailableBytes != nil {
		total, avail := *mi.MemTotalBytes, *mi.MemAvailableBytes
		used := total - avail
		ws := used
		n.Memory = &MemoryStats{Time: store.NewTime(now), AvailableBytes: ptr(avail), UsageBytes: ptr(used), WorkingSetBytes: ptr(ws)}
	}
	if dev, err := fs.NetDev(); err == nil {
		net := &NetworkStats{Time: store.NewTime(now)}
		for name, l := range dev {
			if name == "lo" {
				continue
			}
			net.Interfaces = append(net.Interfaces, InterfaceStats{Name: name, RxBytes: ptr(l.RxBytes), RxErrors: ptr(l.RxErrors),
				TxBytes: ptr(l.TxBytes), TxErrors: ptr(l.TxErrors)})
		}
		if len(net.Interfaces) > 0 {
			net.InterfaceStats = net.Interfaces[0]
			for _, i := range net.Interfaces {
				if i.Name == "eth0" {
					net.InterfaceStats = i
				}
			}
			n.Network = net
		}
	}
	var sfs syscall.Statfs_t
	if err := syscall.Statfs("/", &sfs); err == nil {
		bs := uint64(sfs.Bsize)
		n.Fs = &FsStats{Time: store.NewTime(now), AvailableBytes: ptr(sfs.Bavail * bs), CapacityBytes: ptr(sfs.Blocks * bs),
			UsedBytes: ptr((sfs.Blocks - sfs.Bfree) * bs), InodesFree: ptr(sfs.Ffree), Inodes: ptr(sfs.Files), InodesUsed: ptr(sfs.Files - sfs.Ffree)}
	}
	return nil
}

// serveSummary serves /stats/summary.
func (s *Server) serveSummary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.stats.summary(r.Context())
	if err != nil {
		writeStatus(w, failureStatus(err))
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// serveResourceMetrics serves /metrics/resource: the node's, pods' and
// containers' cumulative CPU and working set in the Prometheus format,
// with Kubernetes' metric names.
func (s *Server) serveResourceMetrics(w http.ResponseWriter, r *http.Request) {
	sum, err := s.stats.summary(r.Context())
	if err != nil {
		writeStatus(w, failureStatus(err))
		return
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(resourceCollector{sum})
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

var (
	descNodeCPU = prometheus.NewDesc("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", nil, nil)
	descNodeMem = prometheus.NewDesc("node_memory_working_set_bytes", "Current working set of the node in bytes", nil, nil)
	descPodCPU  = prometheus.NewDesc("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds",
		[]string{"namespace", "pod"}, nil)
	descPodMem = prometheus.NewDesc("pod_memory_working_set_bytes", "Current working set of the pod in bytes",
		[]string{"namespace", "pod"}, nil)
	descCtrCPU = prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds",
		[]string{"container", "namespace", "pod"}, nil)
	descCtrMem = prometheus.NewDesc("container_memory_working_set_bytes", "Current working set of the container in bytes",
		[]string{"container", "namespace", "pod"}, nil)
)

// resourceCollector turns a Summary into the resource metrics.
type resourceCollector struct{ sum Summary }

func (resourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNodeCPU, descNodeMem, descPodCPU, descPodMem, descCtrCPU, descCtrMem} {
		ch <- d
	}
}

func (c resourceCollector) Collect(ch chan<- prometheus.Metric) {
	emit := func(d *prometheus.Desc, t prometheus.ValueType, at store.Time, v float64, labels ...string) {
		m := prometheus.MustNewConstMetric(d, t, v, labels...)
		ch <- prometheus.NewMetricWithTimestamp(at.Time, m)
	}
	n := c.sum.Node
	if n.CPU != nil {
		emit(descNodeCPU, prometheus.CounterValue, n.CPU.Time, float64(*n.CPU.UsageCoreNanoSeconds)/1e9)
	}
	if n.Memory != nil && n.Memory.WorkingSetBytes != nil {
		emit(descNodeMem, prometheus.GaugeValue, n.Memory.Time, float64(*n.Memory.WorkingSetBytes))
	}
	for _, p := range c.sum.Pods {
		if p.CPU != nil {
			emit(descPodCPU, prometheus.CounterValue, p.CPU.Time, float64(*p.CPU.UsageCoreNanoSeconds)/1e9, p.PodRef.Namespace, p.PodRef.Name)
		}
		if p.Memory != nil {
			emit(descPodMem, prometheus.GaugeValue, p.Memory.Time, float64(*p.Memory.WorkingSetBytes), p.PodRef.Namespace, p.PodRef.Name)
		}
		for _, ct := range p.Containers {
			emit(descCtrCPU, prometheus.CounterValue, ct.CPU.Time, float64(*ct.CPU.UsageCoreNanoSeconds)/1e9, ct.Name, p.PodRef.Namespace, p.PodRef.Name)
			emit(descCtrMem, prometheus.GaugeValue, ct.Memory.Time, float64(*ct.Memory.WorkingSetBytes), ct.Name, p.PodRef.Namespace, p.PodRef.Name)
		}
	}
}
