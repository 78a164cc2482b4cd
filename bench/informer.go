package main

// Informer benchmarks: setpoint's informer against client-go's
// SharedIndexInformer, both fed the same synthetic pod-like objects by an
// in-memory source in the same run.

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

func init() { register("informer", runInformerBench) }

const (
	syncObjects  = 100_000
	eventObjects = 1_000
	eventCount   = 200_000
	benchRuns    = 3
)

// Pod is the bench's pod-like object for setpoint: the same fields the
// client-go side fills in, in a struct of our own.
type Pod struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             PodSpec   `json:"spec"`
	Status           PodStatus `json:"status"`
}

// PodSpec is a pod's desired state.
type PodSpec struct {
	NodeName           string      `json:"nodeName,omitempty"`
	ServiceAccountName string      `json:"serviceAccountName,omitempty"`
	RestartPolicy      string      `json:"restartPolicy,omitempty"`
	Containers         []Container `json:"containers"`
}

// Container is one container of a pod.
type Container struct {
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Args     []string          `json:"args,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Ports    []int32           `json:"ports,omitempty"`
	CPU      string            `json:"cpu,omitempty"`
	MemoryMB int64             `json:"memoryMB,omitempty"`
}

// PodStatus is a pod's observed state.
type PodStatus struct {
	Phase string `json:"phase,omitempty"`
	PodIP string `json:"podIP,omitempty"`
}

func ourPod(i int, rv int64) *Pod {
	return &Pod{
		TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: store.ObjectMeta{
			Name: fmt.Sprintf("pod-%06d", i), Namespace: fmt.Sprintf("ns-%d", i%50),
			UID:             fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			ResourceVersion: strconv.FormatInt(rv, 10), Generation: 1,
			CreationTimestamp: store.NewTime(time.Unix(1700000000, 0)),
			Labels:            map[string]string{"app": fmt.Sprintf("app-%d", i%100), "tier": "web"},
		},
		Spec: PodSpec{
			NodeName: fmt.Sprintf("node-%d", i%1000), ServiceAccountName: "default", RestartPolicy: "Always",
			Containers: []Container{{
				Name: "main", Image: "registry.example/app:1.2.3", Args: []string{"--port=8080"},
				Env: map[string]string{"MODE": "prod"}, Ports: []int32{8080}, CPU: "100m", MemoryMB: 128,
			}},
		},
		Status: PodStatus{Phase: "Running", PodIP: fmt.Sprintf("10.0.%d.%d", i/250%250, i%250)},
	}
}

func kubePod(i int, rv int64) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("pod-%06d", i), Namespace: fmt.Sprintf("ns-%d", i%50),
			UID:             types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)),
			ResourceVersion: strconv.FormatInt(rv, 10), Generation: 1,
			CreationTimestamp: metav1.NewTime(time.Unix(1700000000, 0)),
			Labels:            map[string]string{"app": fmt.Sprintf("app-%d", i%100), "tier": "web"},
		},
		Spec: corev1.PodSpec{
			NodeName: fmt.Sprintf("node-%d", i%1000), ServiceAccountName: "default", RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{
				Name: "main", Image: "registry.example/app:1.2.3", Args: []string{"--port=8080"},
				Env:   []corev1.EnvVar{{Name: "MODE", Value: "prod"}},
				Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.0.%d.%d", i/250%250, i%250)},
	}
}

// ourSource serves a prebuilt list and one prebuilt watch stream.
type ourSource struct {
	list  *store.List[*Pod]
	watch *watch.Stream[*Pod]
}

func (s *ourSource) List(ctx context.Context, _ string, _ store.ListOptions) (*store.List[*Pod], error) {
	l := s.list
	s.list = nil // the source keeps nothing once the informer has the list
	return l, nil
}

func (s *ourSource) Watch(ctx context.Context, _ string, _ store.WatchOptions) (watch.Watcher[*Pod], error) {
	return s.watch, nil
}

// kubeSource is client-go's ListWatch over a prebuilt list and watch.
type kubeSource struct {
	*cache.ListWatch
}

// IsWatchListSemanticsUnSupported makes client-go use list then watch, as
// setpoint does.
func (kubeSource) IsWatchListSemanticsUnSupported() bool { return true }

func newKubeSource(list *corev1.PodList, w kwatch.Interface) kubeSource {
	return kubeSource{&cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (kruntime.Object, error) {
			l := list
			list = nil
			return l, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (kwatch.Interface, error) { return w, nil },
	}}
}

func ourNodeIndex(p *Pod) []string { return []string{p.Spec.NodeName} }

func kubeNodeIndex(obj any) ([]string, error) { return []string{obj.(*corev1.Pod).Spec.NodeName}, nil }

func ourList(n int) *store.List[*Pod] {
	l := &store.List[*Pod]{Revision: int64(n + 1), Items: make([]*Pod, n)}
	for i := range l.Items {
		l.Items[i] = ourPod(i, int64(i+1))
	}
	return l
}

func kubeList(n int) *corev1.PodList {
	l := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(n + 1)}, Items: make([]corev1.Pod, n)}
	for i := range l.Items {
		l.Items[i] = *kubePod(i, int64(i+1))
	}
	return l
}

// --- informer-sync-100k ---

func ourSync(ctx context.Context, n int) (time.Duration, error) {
	src := &ourSource{list: ourList(n), watch: watch.NewStream[*Pod](100)}
	inf, err := informer.New[*Pod](src, informer.Config[*Pod]{PageSize: -1,
		Indexers: map[string]informer.IndexFunc[*Pod]{"node": ourNodeIndex}})
	if err != nil {
		return 0, err
	}
	var got atomic.Int64
	done := make(chan struct{})
	if _, err := inf.AddHandler(informer.HandlerFuncs[*Pod]{AddFunc: func(*Pod, bool) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	}}); err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runtime.GC()
	start := time.Now()
	go inf.Run(runCtx)
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	d := time.Since(start)
	cancel()
	<-inf.Stopped()
	return d, nil
}

func kubeSync(ctx context.Context, n int) (time.Duration, error) {
	src := newKubeSource(kubeList(n), kwatch.NewFakeWithChanSize(100, false))
	inf := cache.NewSharedIndexInformer(src, &corev1.Pod{}, 0, cache.Indexers{"node": kubeNodeIndex})
	var got atomic.Int64
	done := make(chan struct{})
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(any) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	}}); err != nil {
		return 0, err
	}
	stop := make(chan struct{})
	defer close(stop)
	runtime.GC()
	start := time.Now()
	go inf.Run(stop)
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return time.Since(start), nil
}

// --- informer-events ---

func ourEvents(ctx context.Context) (float64, error) {
	events := make([]*Pod, eventCount)
	for i := range events {
		events[i] = ourPod(i%eventObjects, int64(eventObjects+2+i))
	}
	src := &ourSource{list: ourList(eventObjects), watch: watch.NewStream[*Pod](100)}
	inf, err := informer.New[*Pod](src, informer.Config[*Pod]{PageSize: -1,
		Indexers: map[string]informer.IndexFunc[*Pod]{"node": ourNodeIndex}})
	if err != nil {
		return 0, err
	}
	var got atomic.Int64
	done := make(chan struct{})
	if _, err := inf.AddHandler(informer.HandlerFuncs[*Pod]{UpdateFunc: func(_, _ *Pod) {
		if got.Add(1) == eventCount {
			close(done)
		}
	}}); err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go inf.Run(runCtx)
	if err := inf.WaitForSync(ctx); err != nil {
		return 0, err
	}
	runtime.GC()
	start := time.Now()
	go func() {
		for i, p := range events {
			if !src.watch.Send(runCtx, watch.Event[*Pod]{Type: watch.Modified, Object: p, Revision: int64(eventObjects + 2 + i)}) {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	rate := eventCount / time.Since(start).Seconds()
	cancel()
	<-inf.Stopped()
	return rate, nil
}

func kubeEvents(ctx context.Context) (float64, error) {
	events := make([]*corev1.Pod, eventCount)
	for i := range events {
		events[i] = kubePod(i%eventObjects, int64(eventObjects+2+i))
	}
	fw := kwatch.NewFakeWithChanSize(100, false)
	src := newKubeSource(kubeList(eventObjects), fw)
	inf := cache.NewSharedIndexInformer(src, &corev1.Pod{}, 0, cache.Indexers{"node": kubeNodeIndex})
	var got atomic.Int64
	done := make(chan struct{})
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, _ any) {
		if got.Add(1) == eventCount {
			close(done)
		}
	}}); err != nil {
		return 0, err
	}
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return 0, fmt.Errorf("client-go informer did not sync")
	}
	runtime.GC()
	start := time.Now()
	go func() {
		for _, p := range events {
			fw.Modify(p)
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return eventCount / time.Since(start).Seconds(), nil
}

// --- informer-bytes-per-object ---

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// ourBytes returns heap bytes per cached object (objects included) and the
// part of that which is cache overhead beyond the objects themselves.
func ourBytes(ctx context.Context, n int) (perObject, overhead float64, err error) {
	base := heapAlloc()
	objs := ourList(n)
	objBytes := float64(heapAlloc()-base) / float64(n)
	src := &ourSource{list: objs, watch: watch.NewStream[*Pod](100)}
	objs = nil
	inf, err := informer.New[*Pod](src, informer.Config[*Pod]{PageSize: -1,
		Indexers: map[string]informer.IndexFunc[*Pod]{"node": ourNodeIndex}})
	if err != nil {
		return 0, 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go inf.Run(runCtx)
	if err := inf.WaitForSync(ctx); err != nil {
		return 0, 0, err
	}
	total := float64(heapAlloc()-base) / float64(n)
	if inf.Cache().Len() != n {
		return 0, 0, fmt.Errorf("cache holds %d objects, want %d", inf.Cache().Len(), n)
	}
	runtime.KeepAlive(inf)
	return total, total - objBytes, nil
}

func kubeBytes(ctx context.Context, n int) (perObject, overhead float64, err error) {
	base := heapAlloc()
	list := kubeList(n)
	objBytes := float64(heapAlloc()-base) / float64(n)
	src := newKubeSource(list, kwatch.NewFakeWithChanSize(100, false))
	list = nil
	inf := cache.NewSharedIndexInformer(src, &corev1.Pod{}, 0, cache.Indexers{"node": kubeNodeIndex})
	stop := make(chan struct{})
	defer close(stop)
	go inf.Run(stop)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return 0, 0, fmt.Errorf("client-go informer did not sync")
	}
	total := float64(heapAlloc()-base) / float64(n)
	if got := len(inf.GetIndexer().ListKeys()); got != n {
		return 0, 0, fmt.Errorf("client-go cache holds %d objects, want %d", got, n)
	}
	runtime.KeepAlive(inf)
	return total, total - objBytes, nil
}

func runInformerBench(ctx context.Context) ([]Result, error) {
	var results []Result

	var ourBest, kubeBest time.Duration
	for i := 0; i < benchRuns; i++ {
		progress("sync run %d: ours", i)
		o, err := ourSync(ctx, syncObjects)
		if err != nil {
			return results, fmt.Errorf("informer-sync-100k ours: %w", err)
		}
		progress("sync run %d: client-go", i)
		k, err := kubeSync(ctx, syncObjects)
		if err != nil {
			return results, fmt.Errorf("informer-sync-100k client-go: %w", err)
		}
		if i == 0 || o < ourBest {
			ourBest = o
		}
		if i == 0 || k < kubeBest {
			kubeBest = k
		}
	}
	results = append(results, Result{Name: "informer-sync-100k", Ours: ms(ourBest), Anchor: ms(kubeBest), Unit: "ms"})

	var ourRate, kubeRate float64
	for i := 0; i < benchRuns; i++ {
		progress("events run %d: ours", i)
		o, err := ourEvents(ctx)
		if err != nil {
			return results, fmt.Errorf("informer-events ours: %w", err)
		}
		progress("events run %d: client-go", i)
		k, err := kubeEvents(ctx)
		if err != nil {
			return results, fmt.Errorf("informer-events client-go: %w", err)
		}
		ourRate, kubeRate = max(ourRate, o), max(kubeRate, k)
	}
	results = append(results, Result{Name: "informer-events", Ours: ourRate, Anchor: kubeRate, Unit: "events/s", HigherIsBetter: true})

	ob, oo, err := ourBytes(ctx, syncObjects)
	if err != nil {
		return results, fmt.Errorf("informer-bytes-per-object ours: %w", err)
	}
	kb, ko, err := kubeBytes(ctx, syncObjects)
	if err != nil {
		return results, fmt.Errorf("informer-bytes-per-object client-go: %w", err)
	}
	fmt.Fprintf(os.Stderr, "informer-bytes-per-object: cache overhead beyond the objects themselves: ours=%.0f client-go=%.0f bytes/object\n", oo, ko)
	results = append(results, Result{Name: "informer-bytes-per-object", Ours: ob, Anchor: kb, Unit: "bytes"})
	return results, nil
}

func progress(format string, args ...any) {
	if os.Getenv("BENCH_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "informer bench: "+format+"\n", args...)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
