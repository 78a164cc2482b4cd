package kubelet

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/kubelet/server"
	"github.com/setpoint-dev/setpoint/runtime"
)

// ServingConfig configures the kubelet's HTTPS API (package
// examples/kubelet/server): logs, exec, attach, port-forward, stats. The
// API is served only when Listen is set.
type ServingConfig struct {
	// Listen is the TCP address of the API, for example ":10250"
	// (server.DefaultPort is Kubernetes' port); port 0 picks a free one.
	// The port is published in the Node's status
	// (daemonEndpoints.kubeletEndpoint), where the apiserver finds it.
	Listen string
	// CertPEM and KeyPEM are the serving certificate and key; both empty
	// gives a self-signed certificate for the node's name and NodeIP.
	CertPEM, KeyPEM []byte
	// ClientCAPEM is the CA a client certificate must chain to (the
	// apiserver's CA); required when Listen is set.
	ClientCAPEM []byte
	// AllowedClientNames are the client certificate common names let in
	// (default [server.DefaultClientName], the apiserver's).
	AllowedClientNames []string
	// Registry, if set, is served at /metrics.
	Registry prometheus.Gatherer
}

// newServer builds the API server of k when cfg asks for one.
func (k *Kubelet) newServer() (*server.Server, error) {
	sc := k.cfg.Serving
	if sc.Listen == "" {
		return nil, nil
	}
	var ips []string
	if k.cfg.NodeIP != "" {
		ips = []string{k.cfg.NodeIP}
	}
	return server.New(server.Config{Host: serverHost{k}, Listen: sc.Listen, CertPEM: sc.CertPEM, KeyPEM: sc.KeyPEM,
		NodeIPs: ips, ClientCAPEM: sc.ClientCAPEM, AllowedClientNames: sc.AllowedClientNames, Registry: sc.Registry,
		Clock: k.cfg.Clock, Logger: k.log})
}

// ServerPort is the port of the kubelet's HTTPS API (0 when it serves
// none).
func (k *Kubelet) ServerPort() int {
	if k.srv == nil {
		return 0
	}
	return k.srv.Port()
}

// serverHost is the Kubelet as the API server sees it.
type serverHost struct{ k *Kubelet }

var _ server.Host = serverHost{}

func (h serverHost) NodeName() string { return h.k.cfg.NodeName }

func (h serverHost) Runtime() runtime.Runtime { return h.k.rt }

func (h serverHost) Healthy() error { return h.k.Healthy() }

func (h serverHost) Pods() []*api.Pod { return h.k.inf.List() }

func (h serverHost) Pod(ctx context.Context, namespace, name string) (*api.Pod, server.PodHandles, error) {
	pod, ok := h.k.inf.Get(namespace, name)
	if !ok {
		return nil, server.PodHandles{}, server.ErrPodNotFound
	}
	pc, err := h.k.LookupPod(ctx, namespace, name)
	if errors.Is(err, ErrPodNotFound) {
		return pod, server.PodHandles{}, nil
	}
	if err != nil {
		return nil, server.PodHandles{}, err
	}
	if pc.UID != string(pod.UID) {
		return pod, server.PodHandles{}, nil
	}
	return pod, server.PodHandles{SandboxID: pc.SandboxID, Containers: pc.Containers, Previous: pc.Previous}, nil
}
