// Command kubelet runs the example cluster's node agent on containerd:
//
//	go run ./examples/cmd/kubelet --kubeconfig /tmp/sp/kubeconfig --node-name node-1 \
//	    --containerd /run/containerd/containerd.sock
//
// Flags: --kubeconfig (required), --node-name (default: the host name),
// --node-ip, --pod-cidr, --containerd (socket), --containerd-namespace,
// --state-dir, --log-dir, --max-pods, --health-listen (serves /healthz and
// /metrics; default 127.0.0.1:10248), -v. SIGINT or SIGTERM stop it; the
// pods keep running and a restarted kubelet adopts them. The kubelet itself
// is package examples/kubelet.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/kubelet"
	"github.com/setpoint-dev/setpoint/runtime/containerd"
)

// options are the command's flags.
type options struct {
	kubeconfig, nodeName, nodeIP, podCIDR string
	socket, namespace, stateDir, logDir   string
	healthListen                          string
	rootDir, clusterDNS, clusterDomain    string
	maxPods                               int64
	verbose                               bool
}

func main() {
	var o options
	host, _ := os.Hostname()
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the apiserver (required)")
	flag.StringVar(&o.nodeName, "node-name", strings.ToLower(host), "name of the Node to register")
	flag.StringVar(&o.nodeIP, "node-ip", "", "the node's InternalIP (default: the runtime's choice)")
	flag.StringVar(&o.podCIDR, "pod-cidr", "", "podCIDR to report when the Node has none")
	flag.StringVar(&o.socket, "containerd", "/run/containerd/containerd.sock", "containerd socket")
	flag.StringVar(&o.namespace, "containerd-namespace", "", "containerd namespace (default setpoint)")
	flag.StringVar(&o.stateDir, "state-dir", "", "runtime state directory (default /var/lib/setpoint/runtime)")
	flag.StringVar(&o.logDir, "log-dir", "", "container log directory (default /var/log/setpoint/pods)")
	flag.StringVar(&o.rootDir, "root-dir", kubelet.DefaultRootDir, "directory of the pods' volumes and files")
	flag.StringVar(&o.clusterDNS, "cluster-dns", "", "comma-separated cluster DNS server IPs for dnsPolicy ClusterFirst (default: none, pods use the node's resolver)")
	flag.StringVar(&o.clusterDomain, "cluster-domain", kubelet.DefaultClusterDomain, "the cluster's DNS domain")
	flag.StringVar(&o.healthListen, "health-listen", "127.0.0.1:10248", "address serving /healthz and /metrics (empty: none)")
	flag.Int64Var(&o.maxPods, "max-pods", kubelet.DefaultMaxPods, "the node's pod capacity")
	flag.BoolVar(&o.verbose, "v", false, "debug logs")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "kubelet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.kubeconfig == "" {
		return errors.New("--kubeconfig is required")
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	reg := prometheus.NewRegistry()
	cs, err := client.New(client.Config{KubeconfigPath: o.kubeconfig})
	if err != nil {
		return err
	}
	rt, err := containerd.New(ctx, containerd.Config{Address: o.socket, Namespace: o.namespace, StateDir: o.stateDir,
		LogDir: o.logDir, NodeIP: o.nodeIP, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	k, err := kubelet.New(kubelet.Config{Client: cs, NodeName: o.nodeName, Runtime: rt, NodeIP: o.nodeIP, PodCIDR: o.podCIDR,
		Capacity: api.ResourceList{api.ResourcePods: api.NewQuantity(o.maxPods, api.DecimalSI)}, Logger: log, Registerer: reg,
		RootDir: o.rootDir, ClusterDomain: o.clusterDomain, ClusterDNS: splitList(o.clusterDNS)})
	if err != nil {
		return err
	}
	if o.healthListen != "" {
		ln, err := net.Listen("tcp", o.healthListen)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/healthz", k.HealthHandler())
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		defer srv.Close()
	}
	return k.Run(ctx)
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
