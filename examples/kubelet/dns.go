package kubelet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/runtime"
)

// nodeResolvConf is the node's resolver configuration that dnsPolicy
// Default gives pods.
var nodeResolvConf = "/etc/resolv.conf"

// parseResolvConf reads the name servers, search domains and options of a
// resolv.conf.
func parseResolvConf(b []byte) runtime.DNSConfig {
	var d runtime.DNSConfig
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			d.Servers = append(d.Servers, f[1])
		case "search", "domain":
			d.Searches = append([]string(nil), f[1:]...)
		case "options":
			d.Options = append(d.Options, f[1:]...)
		}
	}
	return d
}

// dnsConfig is a pod's /etc/resolv.conf by its dnsPolicy, as Kubernetes
// makes it: ClusterFirst (the default) uses Config.ClusterDNS with the
// search path <ns>.svc.<domain> svc.<domain> <domain> (then the node's)
// and ndots:5; a host-network pod, or a kubelet without ClusterDNS, falls
// back to Default unless the policy is ClusterFirstWithHostNet; Default is
// the node's configuration; None is dnsConfig alone. dnsConfig is merged
// into the others (servers and searches appended, options by name). Nil
// leaves the runtime's default (the node's file).
func (k *Kubelet) dnsConfig(pod *api.Pod) *runtime.DNSConfig {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = api.DNSClusterFirst
	}
	if policy == api.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = api.DNSDefault
	}
	if (policy == api.DNSClusterFirst || policy == api.DNSClusterFirstWithHostNet) && len(k.cfg.ClusterDNS) == 0 {
		policy = api.DNSDefault
	}
	extra := pod.Spec.DNSConfig
	var d runtime.DNSConfig
	switch policy {
	case api.DNSNone:
		if extra == nil {
			return &d
		}
	case api.DNSDefault:
		if extra == nil {
			return nil
		}
		b, _ := os.ReadFile(nodeResolvConf)
		d = parseResolvConf(b)
	default: // ClusterFirst, ClusterFirstWithHostNet
		node, _ := os.ReadFile(nodeResolvConf)
		dom := k.cfg.ClusterDomain
		d.Servers = slices.Clone(k.cfg.ClusterDNS)
		d.Searches = append([]string{pod.Namespace + ".svc." + dom, "svc." + dom, dom}, parseResolvConf(node).Searches...)
		d.Options = []string{"ndots:5"}
	}
	if extra != nil {
		d.Servers = appendNew(d.Servers, extra.Nameservers...)
		d.Searches = appendNew(d.Searches, extra.Searches...)
		for _, o := range extra.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			d.Options = slices.DeleteFunc(d.Options, func(s string) bool { n, _, _ := strings.Cut(s, ":"); return n == o.Name })
			d.Options = append(d.Options, opt)
		}
	}
	// The C library reads at most 3 name servers and 32 search domains.
	if len(d.Servers) > 3 {
		d.Servers = d.Servers[:3]
	}
	if len(d.Searches) > 32 {
		d.Searches = d.Searches[:32]
	}
	return &d
}

// appendNew appends the values of add not yet in l.
func appendNew(l []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(l, s) {
			l = append(l, s)
		}
	}
	return l
}

// needsHostsFile reports whether the kubelet writes the pod's /etc/hosts
// (hostAliases, or a hostname with a subdomain); otherwise the runtime's
// own (localhost and the pod's name at its IP) is used.
func needsHostsFile(pod *api.Pod) bool {
	return len(pod.Spec.HostAliases) > 0 || (pod.Spec.Subdomain != "" && !pod.Spec.HostNetwork)
}

// hostsFile is the pod's /etc/hosts as Kubernetes writes it: the
// localhost lines, the pod's IP with its fully qualified name
// <hostname>.<subdomain>.<ns>.svc.<domain> when it has a subdomain, then
// the hostAliases; a host-network pod gets the node's file plus its
// aliases.
func (k *Kubelet) hostsFile(pod *api.Pod, sb *runtime.SandboxStatus) []byte {
	var b strings.Builder
	if pod.Spec.HostNetwork {
		node, _ := os.ReadFile("/etc/hosts")
		b.Write(node)
	} else {
		b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
			"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
		host := pod.Spec.Hostname
		if host == "" {
			host = pod.Name
		}
		if sb != nil && sb.IP != "" {
			if pod.Spec.Subdomain != "" {
				fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", sb.IP, host, pod.Spec.Subdomain, pod.Namespace, k.cfg.ClusterDomain, host)
			} else {
				fmt.Fprintf(&b, "%s\t%s\n", sb.IP, host)
			}
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			b.WriteString(a.IP + "\t" + strings.Join(a.Hostnames, "\t") + "\n")
		}
	}
	return []byte(b.String())
}

// writeHostsFile writes the pod's hosts file when it needs one and
// returns its node path ("" when the runtime's is used).
func (k *Kubelet) writeHostsFile(pod *api.Pod, sb *runtime.SandboxStatus) (string, error) {
	if !needsHostsFile(pod) {
		return "", nil
	}
	for _, a := range pod.Spec.HostAliases {
		if net.ParseIP(a.IP) == nil {
			return "", fmt.Errorf("hostAliases: %q is not an IP address", a.IP)
		}
	}
	p := filepath.Join(k.podDir(string(pod.UID)), "etc-hosts")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	b := k.hostsFile(pod, sb)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
		return p, nil
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

// serviceEnv is the environment Kubernetes gives a container for the
// services it may reach: for the default/kubernetes Service always, and
// with enableServiceLinks (the default) for every Service of the pod's
// namespace that has a cluster IP, <NAME>_SERVICE_HOST, <NAME>_SERVICE_PORT
// (and _PORT_<PORTNAME>) and the Docker link variables <NAME>_PORT,
// <NAME>_PORT_<port>_<PROTO>(_PROTO, _PORT, _ADDR). Sorted by name.
func (k *Kubelet) serviceEnv(ctx context.Context, pod *api.Pod) ([][2]string, error) {
	// As Kubernetes' kubelet, from the Services watch: a container does
	// not start before it has been read once.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := k.cfg.Clock.AfterFunc(objectSyncTimeout, cancel)
	defer timer.Stop()
	if err := k.svcs.WaitForSync(wctx); err != nil {
		return nil, fmt.Errorf("services have not yet been read at least once, cannot construct envvars: %w", err)
	}
	svcs := map[string]*api.Service{}
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		l, err := k.svcs.ByIndex(informer.NamespaceIndex, pod.Namespace)
		if err != nil {
			return nil, fmt.Errorf("listing the services of namespace %s: %w", pod.Namespace, err)
		}
		for _, s := range l {
			svcs[s.Name] = s
		}
	}
	if _, ok := svcs["kubernetes"]; !ok {
		if s, ok := k.svcs.Get("default", "kubernetes"); ok {
			svcs["kubernetes"] = s
		}
	}
	names := make([]string, 0, len(svcs))
	for n := range svcs {
		names = append(names, n)
	}
	slices.Sort(names)
	var out [][2]string
	for _, n := range names {
		out = append(out, serviceVars(svcs[n])...)
	}
	return out, nil
}

// serviceVars are one Service's variables (none without a cluster IP).
func serviceVars(s *api.Service) [][2]string {
	ip := s.Spec.ClusterIP
	if ip == "" || ip == api.ClusterIPNone || len(s.Spec.Ports) == 0 {
		return nil
	}
	envName := func(n string) string { return strings.ToUpper(strings.ReplaceAll(n, "-", "_")) }
	name := envName(s.Name)
	first := s.Spec.Ports[0]
	out := [][2]string{{name + "_SERVICE_HOST", ip}, {name + "_SERVICE_PORT", strconv.Itoa(int(first.Port))}}
	for _, p := range s.Spec.Ports {
		if p.Name != "" {
			out = append(out, [2]string{name + "_SERVICE_PORT_" + envName(p.Name), strconv.Itoa(int(p.Port))})
		}
	}
	proto := func(p api.ServicePort) string {
		if p.Protocol == "" {
			return "tcp"
		}
		return strings.ToLower(string(p.Protocol))
	}
	url := func(p api.ServicePort) string {
		return proto(p) + "://" + net.JoinHostPort(ip, strconv.Itoa(int(p.Port)))
	}
	out = append(out, [2]string{name + "_PORT", url(first)})
	for _, p := range s.Spec.Ports {
		pre := name + "_PORT_" + strconv.Itoa(int(p.Port)) + "_" + strings.ToUpper(proto(p))
		out = append(out, [2]string{pre, url(p)}, [2]string{pre + "_PROTO", proto(p)},
			[2]string{pre + "_PORT", strconv.Itoa(int(p.Port))}, [2]string{pre + "_ADDR", ip})
	}
	return out
}
