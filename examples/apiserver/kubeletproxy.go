package apiserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/watch"
)

// KubeletClientName is the common name of the client certificate the
// apiserver presents to kubelets (kubeadm's name; the kubelet's server
// package lets it in by default).
const KubeletClientName = "kube-apiserver-kubelet-client"

// kubeletProxy serves pods/log, pods/exec, pods/attach, pods/portforward
// and nodes/proxy by proxying to the kubelet of the pod's node, as
// Kubernetes' apiserver does: the kubelet's address is the node's
// InternalIP (then ExternalIP, then Hostname) and the port its status's
// daemonEndpoints.kubeletEndpoint.port; the apiserver authenticates with
// its kubelet client certificate, and, like Kubernetes without
// --kubelet-certificate-authority, does not verify the kubelet's serving
// certificate. Upgrades (WebSocket for exec and attach, SPDY for
// port-forward) pass through unchanged.
type kubeletProxy struct {
	pods      *store.Store[*api.Pod]
	nodes     *store.Store[*api.Node]
	authz     func() Authorizer
	transport *http.Transport
}

// kubeletTransport is the apiserver's client towards kubelets.
func kubeletTransport(certPEM, keyPEM []byte) (*http.Transport, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	return &http.Transport{
		Proxy:       nil,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// #nosec G402 -- as Kubernetes' apiserver without
		// --kubelet-certificate-authority: kubelets serve self-signed
		// certificates until the serving-certificate CSR flow exists.
		TLSClientConfig:     &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 90 * time.Second, MaxIdleConnsPerHost: 4,
	}, nil
}

// isKubeletSubresource reports the subresources proxied to a kubelet:
// long-running requests, which get no request deadline.
func isKubeletSubresource(info rest.RequestInfo) bool {
	switch {
	case info.APIVersion == "v1" && info.Resource == "pods":
		return slices.Contains([]string{"log", "exec", "attach", "portforward"}, info.Subresource)
	case info.APIVersion == "v1" && info.Resource == "nodes":
		return info.Subresource == "proxy"
	}
	return false
}

func (p *kubeletProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := infoOf(r)
	var err error
	if info.Resource == "nodes" {
		err = p.serveNode(w, r, info)
	} else {
		err = p.servePod(w, r, info)
	}
	if err != nil {
		rest.WriteError(w, err)
	}
}

// servePod proxies a pod subresource to /containerLogs, /exec, /attach or
// /portForward on the pod's kubelet.
func (p *kubeletProxy) servePod(w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	if info.Subresource == "log" && r.Method != http.MethodGet {
		return watch.NewStatusError(http.StatusMethodNotAllowed, watch.StatusReasonMethodNotAllowed, "pods/log only supports GET")
	}
	if info.Subresource != "log" && info.Verb != "create" {
		// A WebSocket upgrade is a GET; Kubernetes asks for create on
		// the subresource as well, as a POST would.
		if err := p.authorizeCreate(r, info); err != nil {
			return err
		}
	}
	pod, err := p.pods.Get(r.Context(), info.Namespace, info.Name)
	if errors.Is(err, store.ErrNotFound) {
		return watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf("pods %q not found", info.Name))
	}
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var path string
	switch info.Subresource {
	case "portforward":
		path = fmt.Sprintf("/portForward/%s/%s", pod.Namespace, pod.Name)
	default:
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return err
		}
		q.Del("container")
		kind := map[string]string{"log": "containerLogs", "exec": "exec", "attach": "attach"}[info.Subresource]
		path = fmt.Sprintf("/%s/%s/%s/%s", kind, pod.Namespace, pod.Name, container)
	}
	if pod.Spec.NodeName == "" {
		return watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
			fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	loc, err := p.kubeletURL(r, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	loc.Path, loc.RawQuery = path, q.Encode()
	p.proxy(w, r, loc)
	return nil
}

// serveNode proxies nodes/<name>/proxy/<path> to <path> on the kubelet.
func (p *kubeletProxy) serveNode(w http.ResponseWriter, r *http.Request, info rest.RequestInfo) error {
	prefix := "/api/v1/nodes/" + info.Name + "/proxy"
	rest, _ := strings.CutPrefix(r.URL.Path, prefix)
	if rest == "" {
		rest = "/"
	}
	loc, err := p.kubeletURL(r, info.Name)
	if err != nil {
		return err
	}
	loc.Path, loc.RawQuery = rest, r.URL.RawQuery
	p.proxy(w, r, loc)
	return nil
}

// authorizeCreate checks the create verb on the subresource.
func (p *kubeletProxy) authorizeCreate(r *http.Request, info rest.RequestInfo) error {
	u := UserFrom(r.Context())
	if u == nil {
		return watch.NewStatusError(http.StatusUnauthorized, watch.StatusReasonUnauthorized, "Unauthorized")
	}
	d, _ := p.authz().Authorize(&authz.Attributes{User: *u, Verb: "create", ResourceRequest: true, Resource: info.Resource,
		Subresource: info.Subresource, Namespace: info.Namespace, Name: info.Name})
	if d != authz.Allow {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("pods %q is forbidden: User %q cannot create resource \"pods/%s\" in API group \"\" in the namespace %q",
				info.Name, u.Name, info.Subresource, info.Namespace))
	}
	return nil
}

// podContainer resolves the container parameter as Kubernetes does: it
// may be empty only for a pod with one container.
func podContainer(pod *api.Pod, name string) (string, error) {
	var names, inits []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if name == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names)
		if len(inits) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: %v", inits)
		}
		return "", watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest, msg)
	}
	if slices.Contains(names, name) || slices.Contains(inits, name) {
		return name, nil
	}
	return "", watch.NewStatusError(http.StatusBadRequest, watch.StatusReasonBadRequest,
		fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// kubeletURL is the base URL of node's kubelet.
func (p *kubeletProxy) kubeletURL(r *http.Request, node string) (*url.URL, error) {
	n, err := p.nodes.Get(r.Context(), "", node)
	if errors.Is(err, store.ErrNotFound) {
		return nil, watch.NewStatusError(http.StatusNotFound, watch.StatusReasonNotFound, fmt.Sprintf("nodes %q not found", node))
	}
	if err != nil {
		return nil, err
	}
	host := nodeAddress(n)
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	if host == "" || port <= 0 {
		return nil, watch.NewStatusError(http.StatusServiceUnavailable, watch.StatusReasonServiceUnavailable,
			fmt.Sprintf("node %q reports no kubelet address and port (status.addresses, status.daemonEndpoints.kubeletEndpoint.port)", node))
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(int(port)))}, nil
}

// nodeAddress picks the node's address to reach its kubelet: InternalIP,
// then ExternalIP, then Hostname (the example cluster's host names are
// node names, not always resolvable, so IPs come first).
func nodeAddress(n *api.Node) string {
	for _, t := range []api.NodeAddressType{api.NodeInternalIP, api.NodeExternalIP, api.NodeHostName} {
		for _, a := range n.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

// proxy forwards r to loc, upgrades included, streaming the answer.
func (p *kubeletProxy) proxy(w http.ResponseWriter, r *http.Request, loc *url.URL) {
	rp := &httputil.ReverseProxy{
		Transport:     p.transport,
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = loc
			pr.Out.Host = loc.Host
			// The caller's credentials are for the apiserver only.
			pr.Out.Header.Del("Authorization")
			for k := range pr.Out.Header {
				if strings.HasPrefix(k, "Impersonate-") {
					pr.Out.Header.Del(k)
				}
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			rest.WriteError(w, watch.NewStatusError(http.StatusInternalServerError, watch.StatusReasonInternalError,
				fmt.Sprintf("error dialing backend: %v", err)))
		},
	}
	rp.ServeHTTP(w, r)
}

// kubeletRoutes mounts the kubelet subresources on mux.
func (s *Server) kubeletRoutes(mux *resourceMux, rs *resources) (*kubeletProxy, error) {
	certPEM, keyPEM, err := s.pki.IssueClientCert(KubeletClientName, "system:masters")
	if err != nil {
		return nil, fmt.Errorf("issuing the kubelet client certificate: %w", err)
	}
	tr, err := kubeletTransport(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	p := &kubeletProxy{pods: rs.pods.st, authz: func() Authorizer { return s.authz }, transport: tr}
	for _, r := range rs.all {
		if n, ok := r.(*resourceOf[*api.Node]); ok {
			p.nodes = n.st
		}
	}
	if p.nodes == nil {
		return nil, errors.New("nodes are not served")
	}
	for _, sub := range []string{"log", "exec", "attach", "portforward"} {
		mux.handle(route{"v1", "pods", sub, ""}, p)
	}
	mux.handle(route{"v1", "nodes", "proxy", ""}, p)
	return p, nil
}
