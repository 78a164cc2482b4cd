package containerd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/setpoint-dev/setpoint/runtime"
)

const loopbackConfList = `{"cniVersion":"1.0.0","name":"setpoint-loopback","plugins":[{"type":"loopback"}]}`

// network attaches sandboxes to the pod network through CNI: the loopback
// plugin for lo, then the configured list for eth0.
type network struct {
	cni      *libcni.CNIConfig
	loopback *libcni.NetworkConfigList
	pods     *libcni.NetworkConfigList
	// portMappings: a plugin of pods takes the portMappings capability.
	portMappings bool
}

func newNetwork(cfg Config) (*network, error) {
	confList := cfg.Network.ConfList
	if len(confList) == 0 {
		confList = cfg.bridgeConfList()
	}
	pods, err := libcni.NetworkConfFromBytes(confList)
	if err != nil {
		return nil, &runtime.FieldError{Field: "Network.ConfList", Reason: err.Error()}
	}
	lo, err := libcni.NetworkConfFromBytes([]byte(loopbackConfList))
	if err != nil {
		return nil, err
	}
	ports := false
	for _, p := range pods.Plugins {
		if p.Network.Capabilities["portMappings"] {
			ports = true
		}
	}
	return &network{
		portMappings: ports,
		// An explicit exec: libcni's lazily made default is not safe for
		// concurrent use.
		cni: libcni.NewCNIConfigWithCacheDir(cfg.Network.BinDirs, filepath.Join(cfg.StateDir, "cni-cache"), &invoke.DefaultExec{
			RawExec:       &invoke.RawExec{Stderr: os.Stderr},
			PluginDecoder: version.PluginDecoder{},
		}),
		loopback: lo,
		pods:     pods,
	}, nil
}

func (n *network) rt(id, netns, ifName string, ports []runtime.PortMapping) *libcni.RuntimeConf {
	rc := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName}
	if len(ports) > 0 {
		// The portMappings capability's wire format (CNI CONVENTIONS).
		var pm []map[string]any
		for _, p := range ports {
			m := map[string]any{"hostPort": int(p.HostPort), "containerPort": int(p.ContainerPort), "protocol": strings.ToLower(string(p.Proto()))}
			if p.HostIP != "" {
				m["hostIP"] = p.HostIP
			}
			pm = append(pm, m)
		}
		rc.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rc
}

// setup attaches the namespace, maps the host ports to it and returns the
// pod IP.
func (n *network) setup(ctx context.Context, id, netns string, ports []runtime.PortMapping) (string, error) {
	if _, err := n.cni.AddNetworkList(ctx, n.loopback, n.rt(id, netns, "lo", nil)); err != nil {
		return "", fmt.Errorf("%w: sandbox %s: CNI loopback: %v", runtime.ErrUnavailable, id, err)
	}
	res, err := n.cni.AddNetworkList(ctx, n.pods, n.rt(id, netns, "eth0", ports))
	if err != nil {
		return "", fmt.Errorf("%w: sandbox %s: CNI network %s: %v", runtime.ErrUnavailable, id, n.pods.Name, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return "", fmt.Errorf("%w: sandbox %s: CNI result: %v", runtime.ErrUnavailable, id, err)
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			return ip.Address.IP.String(), nil
		}
	}
	if len(r.IPs) > 0 {
		return r.IPs[0].Address.IP.String(), nil
	}
	return "", fmt.Errorf("%w: sandbox %s: CNI network %s returned no IP", runtime.ErrUnavailable, id, n.pods.Name)
}

// teardown detaches the namespace and removes its host ports' rules; it
// works from the cached results, so it also releases the IP when the
// namespace is already gone.
func (n *network) teardown(ctx context.Context, id, netns string, ports []runtime.PortMapping) error {
	if err := n.cni.DelNetworkList(ctx, n.pods, n.rt(id, netns, "eth0", ports)); err != nil {
		return fmt.Errorf("%w: sandbox %s: CNI delete from %s: %v", runtime.ErrUnavailable, id, n.pods.Name, err)
	}
	if err := n.cni.DelNetworkList(ctx, n.loopback, n.rt(id, netns, "lo", nil)); err != nil {
		return fmt.Errorf("%w: sandbox %s: CNI loopback delete: %v", runtime.ErrUnavailable, id, err)
	}
	return nil
}
