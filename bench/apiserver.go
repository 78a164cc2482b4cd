package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// apiserver-create-c64: pod creates per second over HTTPS through the
// example apiserver (authentication, admission, validation, etcd write) at
// 64 concurrent clients, against 64 goroutines creating the same pods with
// the typed store directly on the same etcd, in the same run. Each side
// runs for apiCreateDur; the better of two rounds is kept for each.
//
// apiserver-watch-1000: 1000 HTTPS watchers of one namespace on an
// apiserver process (the binary, on an external etcd) while apiWatchEvents
// pods are created: events delivered per second summed over the watchers,
// timed from the first write to the last watcher's last event, against ONE
// raw etcd watcher's events per second on the same write stream.
// apiserver-watch-1000-mem: the apiserver process's peak RSS growth over
// its RSS before the watchers connected, divided by 1000 (bytes/watcher).
const (
	apiCreateClients = 64
	apiCreateDur     = 4 * time.Second
	apiWatchers      = 1000
	apiWatchEvents   = 300
)

func init() {
	register("apiserver", benchAPIServer)
}

func benchAPIServer(ctx context.Context) ([]Result, error) {
	var results []Result
	ours, anchor, err := apiCreate(ctx)
	if err != nil {
		return nil, fmt.Errorf("apiserver-create-c64: %w", err)
	}
	results = append(results, Result{Name: "apiserver-create-c64", Ours: ours, Anchor: anchor, Unit: "creates/s", HigherIsBetter: true})
	rate, raw, perWatcher, err := apiWatch(ctx)
	if err != nil {
		return results, fmt.Errorf("apiserver-watch-1000: %w", err)
	}
	results = append(results,
		Result{Name: "apiserver-watch-1000", Ours: rate, Anchor: raw, Unit: "events/s", HigherIsBetter: true},
		Result{Name: "apiserver-watch-1000-mem", Ours: perWatcher, Unit: "bytes/watcher", HigherIsBetter: false})
	return results, nil
}

func apiBenchPod(name string) *api.Pod {
	p := registry.PodKind.New()
	p.Namespace, p.Name = "default", name
	p.Labels = map[string]string{"app": "bench"}
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx:1.27"}}
	return p
}

// hammer runs fn from n goroutines for d and returns calls per second.
func hammer(ctx context.Context, n int, d time.Duration, fn func(ctx context.Context, worker, i int) error) (float64, error) {
	var done atomic.Int64
	var stop atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for w := range n {
		g.Go(func() error {
			for i := 0; !stop.Load(); i++ {
				if err := fn(gctx, w, i); err != nil {
					return err
				}
				done.Add(1)
			}
			return nil
		})
	}
	err := g.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), err
}

func apiCreate(ctx context.Context) (ours, anchor float64, err error) {
	srv0, stop, err := startBenchEtcd(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	backend := srv0.Backend()
	dir, err := os.MkdirTemp("", "setpoint-bench-apiserver-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	srv, stopSrv, err := startAPIServer(ctx, apiserver.Config{DataDir: dir, Backend: backend, Listen: "127.0.0.1:0", MaxInflight: 1000})
	if err != nil {
		return 0, 0, err
	}
	defer stopSrv()
	tc, err := srv.ClientTLS(srv.PKI().AdminCert, srv.PKI().AdminKey)
	if err != nil {
		return 0, 0, err
	}
	// HTTP/2, as client-go uses: the 64 clients share one connection.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: apiCreateClients}}
	pods, err := rest.NewClient[*api.Pod](hc, srv.URL(), registry.PodKind.Resource())
	if err != nil {
		return 0, 0, err
	}
	typed, err := store.New[*api.Pod](backend, registry.PodKind.Resource())
	if err != nil {
		return 0, 0, err
	}
	for round := range 2 {
		a, err := hammer(ctx, apiCreateClients, apiCreateDur, func(ctx context.Context, w, i int) error {
			p := apiBenchPod(fmt.Sprintf("s%d-%d-%d", round, w, i))
			registry.PodKind.Default(p)
			_, err := typed.Create(ctx, p)
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("typed store: %w", err)
		}
		o, err := hammer(ctx, apiCreateClients, apiCreateDur, func(ctx context.Context, w, i int) error {
			_, err := pods.Create(ctx, apiBenchPod(fmt.Sprintf("h%d-%d-%d", round, w, i)))
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("over HTTPS: %w", err)
		}
		ours, anchor = max(ours, o), max(anchor, a)
	}
	return ours, anchor, nil
}

// freshAPIServer starts an in-process apiserver in a new temporary
// directory (named after prefix) on embedded etcd without fsync, with
// maxInflight requests (0: the default), and returns its admin kubeconfig,
// an unthrottled clientset, and the cleanup that stops the server and
// removes the directory.
func freshAPIServer(ctx context.Context, prefix string, maxInflight int) (kc []byte, cs *client.Clientset, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, nil, nil, err
	}
	srv, stop, err := startAPIServer(ctx, apiserver.Config{DataDir: filepath.Join(dir, "data"), Listen: "127.0.0.1:0",
		EtcdNoFsync: true, EtcdLogLevel: "off", MaxInflight: maxInflight})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	cleanup = func() {
		_ = stop()
		os.RemoveAll(dir)
	}
	if kc, err = srv.Kubeconfig(); err == nil {
		cs, err = client.New(client.Config{Kubeconfig: kc, QPS: -1})
	}
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return kc, cs, cleanup, nil
}

// startAPIServer runs an apiserver in-process until stop is called, and
// returns once it serves.
func startAPIServer(ctx context.Context, cfg apiserver.Config) (srv *apiserver.Server, stop func() error, err error) {
	srv, err = apiserver.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	stop = func() error {
		cancel()
		return <-done
	}
	select {
	case <-srv.Ready():
		return srv, stop, nil
	case err := <-done:
		cancel()
		return nil, nil, err
	case <-ctx.Done():
		return nil, nil, errors.Join(ctx.Err(), stop())
	}
}

// procMem returns a process's VmRSS and VmHWM (peak RSS) in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "VmHWM:":
			hwm = v << 10
		}
	}
	return rss, hwm, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func apiWatch(ctx context.Context) (rate, raw, perWatcher float64, err error) {
	etcdSrv, stop, err := startBenchEtcd(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer stop()
	cli := etcdSrv.Client()
	dir, err := os.MkdirTemp("", "setpoint-bench-apiwatch-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "apiserver")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/setpoint-dev/setpoint/examples/cmd/apiserver").CombinedOutput(); err != nil {
		return 0, 0, 0, fmt.Errorf("building the apiserver: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return 0, 0, 0, err
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "--data-dir", data, "--listen", addr, "--etcd-servers", strings.Join(etcdSrv.Endpoints(), ","))
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := probe.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("apiserver did not become ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pki, err := apiserver.LoadOrCreatePKI(filepath.Join(data, "pki"))
	if err != nil {
		return 0, 0, 0, err
	}
	pair, err := tls.X509KeyPair(pki.AdminCert, pki.AdminKey)
	if err != nil {
		return 0, 0, 0, err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CertPool(), Certificates: []tls.Certificate{pair}},
		MaxIdleConnsPerHost: apiWatchers}}
	typed, err := store.New[*api.Pod](etcd.New(cli), registry.PodKind.Resource())
	if err != nil {
		return 0, 0, 0, err
	}
	resp, err := cli.Get(ctx, "/bench/none")
	if err != nil {
		return 0, 0, 0, err
	}
	startRev := resp.Header.Revision
	baseRSS, _, err := procMem(cmd.Process.Pid)
	if err != nil {
		return 0, 0, 0, err
	}
	total := apiWatchEvents + 1 // a warm-up create first

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// the anchor: one raw etcd watcher of the pods prefix
	rawW := startRawWatch(wctx, cli, typed.Key("default", ""), startRev, total)
	// ours: 1000 HTTPS watchers
	var (
		wg, warm sync.WaitGroup
		mu       sync.Mutex
		oursEnd  time.Time
		watchErr error
	)
	url := fmt.Sprintf("https://%s/api/v1/namespaces/default/pods?watch=true&resourceVersion=%d", addr, startRev)
	for range apiWatchers {
		req, _ := http.NewRequestWithContext(wctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("opening a watch: %w", err)
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			return 0, 0, 0, fmt.Errorf("opening a watch: %s", resp.Status)
		}
		warm.Add(1)
		wg.Go(func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 0, 4096), 1<<20)
			got := 0
			for got < total && sc.Scan() {
				if strings.HasPrefix(sc.Text(), `{"type":"ADDED"`) {
					if got++; got == 1 {
						warm.Done()
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got != total {
				if got == 0 {
					warm.Done()
				}
				if watchErr == nil {
					watchErr = fmt.Errorf("a watcher got %d of %d events: %v", got, total, sc.Err())
				}
				return
			}
			if now := time.Now(); now.After(oursEnd) {
				oursEnd = now
			}
		})
	}
	if _, err := typed.Create(ctx, apiBenchPod("warmup")); err != nil {
		return 0, 0, 0, err
	}
	select {
	case <-rawW.Warm:
	case err := <-rawW.Done:
		return 0, 0, 0, fmt.Errorf("raw watcher: %v", err)
	}
	warm.Wait()
	begin := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	const writers = 16
	for w := range writers {
		g.Go(func() error {
			for i := w; i < apiWatchEvents; i += writers {
				if _, err := typed.Create(gctx, apiBenchPod(fmt.Sprintf("w%d", i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, 0, err
	}
	if err := <-rawW.Done; err != nil {
		return 0, 0, 0, fmt.Errorf("raw watcher: %w", err)
	}
	wg.Wait()
	if watchErr != nil {
		return 0, 0, 0, watchErr
	}
	_, hwm, err := procMem(cmd.Process.Pid)
	if err != nil {
		return 0, 0, 0, err
	}
	if hwm < baseRSS {
		return 0, 0, 0, errors.New("peak RSS below the baseline: /proc accounting is off")
	}
	rate = float64(apiWatchers*apiWatchEvents) / oursEnd.Sub(begin).Seconds()
	raw = float64(apiWatchEvents) / rawW.End.Sub(begin).Seconds()
	return rate, raw, float64(hwm-baseRSS) / apiWatchers, nil
}
