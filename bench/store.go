package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
)

// storeBenchPod is a typical small object: a pod with labels and a spec.
type storeBenchPod struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Spec             storeBenchSpec `json:"spec,omitempty"`
}

type storeBenchSpec struct {
	NodeName   string            `json:"nodeName,omitempty"`
	Containers []storeBenchCtr   `json:"containers"`
	Env        map[string]string `json:"env,omitempty"`
}

type storeBenchCtr struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args,omitempty"`
}

func newStoreBenchPod(name string) *storeBenchPod {
	return &storeBenchPod{
		ObjectMeta: store.ObjectMeta{Namespace: "bench", Name: name, Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec: storeBenchSpec{
			Containers: []storeBenchCtr{{Name: "web", Image: "registry.example/web:1.2.3", Args: []string{"--port=8080", "--verbose"}}},
			Env:        map[string]string{"MODE": "production", "REGION": "eu-west"},
		},
	}
}

const (
	storeBenchWriters  = 64
	storeBenchDuration = 5 * time.Second
	storeBenchRounds   = 10
)

func init() {
	register("store", runStoreBench)
}

// runConcurrent calls op from storeBenchWriters goroutines for d and
// returns completed operations per second.
func runConcurrent(ctx context.Context, d time.Duration, op func(ctx context.Context, worker, seq int) error) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ops atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range storeBenchWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; time.Now().Before(deadline); seq++ {
				if err := op(ctx, w, seq); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(ops.Load()) / elapsed.Seconds(), nil
}

// runStoreBench measures typed creates through the etcd backend against the
// same bytes written raw on one embedded etcd server, two ways: plain Puts
// (store-create-c64, the anchor) and create-if-absent Txns
// (store-create-c64-vs-create-txn, the same server-side work a create needs).
func runStoreBench(ctx context.Context) ([]Result, error) {
	// Without fsync, so that the figures measure the request path (client,
	// gRPC, raft, MVCC) rather than a disk shared with other work; set
	// STORE_BENCH_FSYNC=1 to measure with fsync. Both sides use the same
	// server either way.
	srv, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: os.Getenv("STORE_BENCH_FSYNC") == ""})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	pods, err := store.New[*storeBenchPod](srv.Backend(), store.Resource{Name: "pods", APIVersion: "v1", Kind: "Pod", Namespaced: true}, store.WithKeyPrefix("/ours"))
	if err != nil {
		return nil, err
	}
	// The anchor writes the bytes our store writes for such an object.
	sample, err := pods.Create(ctx, newStoreBenchPod("sample"))
	if err != nil {
		return nil, err
	}
	sample.ResourceVersion = ""
	raw, err := json.Marshal(sample)
	if err != nil {
		return nil, err
	}
	value := string(raw)
	c := srv.Client()
	k8s, closeK8s, err := k8sPodStorage(c)
	if err != nil {
		return nil, err
	}
	defer closeK8s()
	k8sSide := k8sCreate(k8s)

	ours := func(prefix string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			_, err := pods.Create(ctx, newStoreBenchPod(fmt.Sprintf("%s-%d-%d", prefix, w, seq)))
			return err
		}
	}
	// The anchor is the same write done raw: a create-if-absent transaction
	// (the compare any create needs) putting the same bytes.
	anchor := func(prefix string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			k := fmt.Sprintf("/raw/pods/bench/%s-%d-%d", prefix, w, seq)
			_, err := c.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).Then(clientv3.OpPut(k, value)).Commit()
			return err
		}
	}
	// The anchor: a plain Put of the same bytes, no compare at all.
	// It is cheaper on the server than any create (which must compare), so
	// both figures are printed.
	put := func(prefix string) func(ctx context.Context, w, seq int) error {
		return func(ctx context.Context, w, seq int) error {
			k := fmt.Sprintf("/put/pods/bench/%s-%d-%d", prefix, w, seq)
			_, err := c.Put(ctx, k, value)
			return err
		}
	}
	// Warm up every path, then measure them in turn.
	if _, err := runConcurrent(ctx, time.Second, put("warm")); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := runConcurrent(ctx, time.Second, anchor("warm")); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := runConcurrent(ctx, time.Second, ours("warm")); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := runConcurrent(ctx, time.Second, k8sSide("warm")); err != nil {
		return nil, fmt.Errorf("warm-up k8s: %w", err)
	}
	// Alternate short slices of each, swapping which goes first, so that both
	// see the same machine (load varies) and the same database size (etcd
	// slows down as it grows); ~5 s each in total.
	var anchorSum, oursSum, putSum, k8sSum float64
	slice := storeBenchDuration / storeBenchRounds
	for round := range storeBenchRounds {
		name := fmt.Sprint("p", round)
		sides := []func(context.Context, int, int) error{anchor(name), ours(name), put(name), k8sSide(name)}
		sums := []*float64{&anchorSum, &oursSum, &putSum, &k8sSum}
		if round%2 == 1 {
			slices.Reverse(sides)
			slices.Reverse(sums)
		}
		for i, op := range sides {
			r, err := runConcurrent(ctx, slice, op)
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", round, err)
			}
			*sums[i] += r
		}
	}
	anchorRate, oursRate, putRate, k8sRate := anchorSum/storeBenchRounds, oursSum/storeBenchRounds, putSum/storeBenchRounds, k8sSum/storeBenchRounds
	return []Result{
		{Name: "store-create-c64", Ours: oursRate, Anchor: putRate, Unit: "ops/s", HigherIsBetter: true},
		{Name: "store-create-c64-vs-create-txn", Ours: oursRate, Anchor: anchorRate, Unit: "ops/s", HigherIsBetter: true},
		{Name: "store-create-c64-vs-k8s", Ours: oursRate, Anchor: k8sRate, Unit: "ops/s", HigherIsBetter: true},
	}, nil
}
