package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// list-pods-150k: full LISTs of 150,000 pods (-list-pods) through the
// example apiserver over HTTPS, served from its watch cache with
// resourceVersion=0, against the same list read straight from etcd by the
// same server (resourceVersionMatch=Exact at a revision the cache has moved
// past, which the cache cannot serve and hands to etcd: the etcd path of
// the handler, decoding and encoding every object per request).
// list-pods-150k-consistent: the same with no resourceVersion (a
// consistent read: one etcd revision read, then the cache).
// list-pods-150k-protobuf: RV=0 against Exact, both as protobuf.
// Throughput in lists per second: the cache side runs listRounds lists
// after a warm-up list (which encodes each object once, as the steady
// state has), the etcd side listClients lists (one per client; at 150k
// pods each takes seconds, and nothing on that path warms up), listClients
// at a time; the JSON anchor is measured once for both JSON lines.
// Response compression is off on the client, so the figures measure the
// list path and not gzip.
var listPods = flag.Int("list-pods", 150000, "pods in the store for the list-pods-150k bench")

const (
	listRounds  = 4
	listClients = 2
	listTxnOps  = 128 // etcd's default --max-txn-ops
	listLoaders = 8
)

func init() {
	register("list", benchList)
}

func benchList(ctx context.Context) ([]Result, error) {
	etcdSrv, stopEtcd, err := startBenchEtcd(ctx)
	if err != nil {
		return nil, err
	}
	defer stopEtcd()
	backend := etcdSrv.Backend()
	loadStart := time.Now()
	if err := loadListPods(ctx, etcdSrv.Client(), *listPods); err != nil {
		return nil, fmt.Errorf("loading %d pods: %w", *listPods, err)
	}
	fmt.Fprintf(os.Stderr, "list: loaded %d pods in %v\n", *listPods, time.Since(loadStart).Round(time.Millisecond))
	dir, err := os.MkdirTemp("", "setpoint-bench-list-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, stopSrv, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Backend: backend, Listen: "127.0.0.1:0", MaxInflight: 100})
	if err != nil {
		return nil, err
	}
	defer stopSrv()
	tc, err := srv.ClientTLS(srv.PKI().AdminCert, srv.PKI().AdminKey)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, DisableCompression: true, MaxIdleConnsPerHost: listClients}}
	base := srv.URL() + "/api/v1/pods"

	// A consistent list waits until the cache holds everything loaded.
	if _, err := listOnce(ctx, hc, base, "application/json"); err != nil {
		return nil, err
	}
	// Move etcd past the loaded revision with a write the pods' cache
	// does not hold, and let the cache see it: Exact at the old revision
	// then has to go to etcd, and lists the same pods.
	old, err := backend.Revision(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := etcdSrv.Client().Put(ctx, store.DefaultKeyPrefix+"/benchlist/bump", "x"); err != nil {
		return nil, err
	}
	if _, err := listOnce(ctx, hc, base, "application/json"); err != nil {
		return nil, err
	}
	exact := base + "?resourceVersion=" + strconv.FormatInt(old, 10) + "&resourceVersionMatch=Exact"
	cached := base + "?resourceVersion=0"

	var results []Result
	type rate struct {
		perSec float64
		size   int64
	}
	anchors := map[string]rate{}
	for _, c := range []struct {
		name, accept, ours string
	}{
		{"list-pods-150k", "application/json", cached},
		{"list-pods-150k-consistent", "application/json", base},
		{"list-pods-150k-protobuf", watch.MediaTypeProtobuf, cached},
	} {
		if _, err := listOnce(ctx, hc, c.ours, c.accept); err != nil { // warm-up
			return results, fmt.Errorf("%s: cache: %w", c.name, err)
		}
		ours, oursBytes, err := listRate(ctx, hc, c.ours, c.accept, listRounds)
		if err != nil {
			return results, fmt.Errorf("%s: cache: %w", c.name, err)
		}
		a, ok := anchors[c.accept]
		if !ok {
			if a.perSec, a.size, err = listRate(ctx, hc, exact, c.accept, listClients); err != nil {
				return results, fmt.Errorf("%s: etcd: %w", c.name, err)
			}
			anchors[c.accept] = a
		}
		anchor, anchorBytes := a.perSec, a.size
		// Both sides list the same pods: the bodies differ only in the
		// list's resourceVersion.
		if d := oursBytes - anchorBytes; d < -8 || d > 8 {
			return results, fmt.Errorf("%s: the cache's list is %d bytes, etcd's %d: not the same pods", c.name, oursBytes, anchorBytes)
		}
		fmt.Fprintf(os.Stderr, "list: %s: %d bytes per list\n", c.name, oursBytes)
		results = append(results, Result{Name: c.name, Ours: ours, Anchor: anchor, Unit: "lists/s", HigherIsBetter: true})
	}
	return results, nil
}

// loadListPods writes n defaulted pods across 100 namespaces straight into
// etcd, in transactions of listTxnOps puts, as the typed store stores them.
func loadListPods(ctx context.Context, c *clientv3.Client, n int) error {
	res := registry.PodKind.Resource()
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan int)
	g.Go(func() error {
		defer close(batches)
		for start := 0; start < n; start += listTxnOps {
			select {
			case batches <- start:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	created := time.Now().UTC().Truncate(time.Second)
	for range listLoaders {
		g.Go(func() error {
			for start := range batches {
				ops := make([]clientv3.Op, 0, listTxnOps)
				for i := start; i < min(start+listTxnOps, n); i++ {
					p := registry.PodKind.New()
					p.Namespace, p.Name = fmt.Sprintf("ns-%d", i%100), fmt.Sprintf("pod-%d", i)
					p.UID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
					p.CreationTimestamp = store.NewTime(created)
					p.Labels = map[string]string{"app": fmt.Sprintf("app-%d", i%50), "pod-template-hash": "5d8f7c9b6"}
					pod := apiBenchPod(p.Name)
					p.Spec = pod.Spec
					p.Spec.NodeName = fmt.Sprintf("node-%d", i%5000)
					registry.PodKind.Default(p)
					p.APIVersion, p.Kind = res.APIVersion, res.Kind
					b, err := json.Marshal(p)
					if err != nil {
						return err
					}
					key := store.DefaultKeyPrefix + "/" + res.Name + "/" + p.Namespace + "/" + p.Name
					ops = append(ops, clientv3.OpPut(key, string(b)))
				}
				if _, err := c.Txn(ctx).Then(ops...).Commit(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// listOnce lists url and returns the body's length.
func listOnce(ctx context.Context, hc *http.Client, url, accept string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", accept)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return 0, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return io.Copy(io.Discard, resp.Body)
}

// listRate lists url n times from listClients clients, and returns lists
// per second and the body length.
func listRate(ctx context.Context, hc *http.Client, url, accept string, n int) (float64, int64, error) {
	var size atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for range listClients {
		g.Go(func() error {
			for range n / listClients {
				b, err := listOnce(gctx, hc, url, accept)
				if err != nil {
					return err
				}
				size.Store(b)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	return float64(n) / time.Since(start).Seconds(), size.Load(), nil
}
