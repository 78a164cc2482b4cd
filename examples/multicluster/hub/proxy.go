package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authorization"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// serveProxy passes a caller's Kubernetes API request to child cluster
// id through its agent's tunnel: the caller must be allowed the verb of
// the request's method on clusters/proxy named id in the parent, and the
// child then judges the request as the caller, whom the hub names in
// impersonation headers (the caller's own credentials never leave the
// hub). Watches, logs and upgraded streams (exec, attach, port-forward)
// pass through unbuffered.
func (h *Hub) serveProxy(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := validID(id); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	u, ok := h.authenticate(w, r)
	if !ok || !h.allowed(w, r, u, verbOf(r.Method), "clusters", "proxy", "", id) {
		return
	}
	if h.session(id) == nil {
		h.metrics.proxied.WithLabelValues("unavailable").Inc()
		writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", fmt.Sprintf("cluster %q is not connected to the hub", id))
		return
	}
	h.proxy(id).ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, u)))
}

// callerKey carries the authenticated caller to the proxy's Rewrite.
type callerKey struct{}

// proxy returns cluster id's reverse proxy (made once): it sends the
// request's path below ProxyPath(id) through id's transport, as the
// caller in the request's context.
func (h *Hub) proxy(id string) *httputil.ReverseProxy {
	h.mu.Lock()
	rp := h.proxies[id]
	h.mu.Unlock()
	if rp != nil {
		return rp
	}
	prefix := tunnel.ProxyPath(id)
	rp = &httputil.ReverseProxy{
		// FlushInterval 0: a response of unknown length (a watch, logs
		// -f: chunked) is still flushed as each write arrives, as
		// ReverseProxy does for those, while one of known length (a get,
		// a list) goes out in as few frames as its size allows
		Transport: h.transport(id),
		Rewrite: func(pr *httputil.ProxyRequest) {
			in := pr.In.URL
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", id+".cluster"
			pr.Out.URL.Path = strings.TrimPrefix(in.Path, prefix)
			pr.Out.URL.RawPath = ""
			if in.RawPath != "" {
				pr.Out.URL.RawPath = strings.TrimPrefix(in.RawPath, prefix)
			}
			if pr.Out.URL.Path == "" {
				pr.Out.URL.Path = "/"
			}
			pr.Out.Host = ""
			impersonate(pr.Out.Header, pr.In.Context().Value(callerKey{}).(*User))
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			h.log.Warn("proxy to child failed", "cluster", id, "path", r.URL.Path, "err", err)
			writeStatus(w, http.StatusBadGateway, "ServiceUnavailable", fmt.Sprintf("cluster %q: %v", id, err))
		},
		ModifyResponse: func(resp *http.Response) error {
			h.metrics.proxied.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
			return nil
		},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur := h.proxies[id]; cur != nil {
		return cur
	}
	h.proxies[id] = rp
	return rp
}

// impersonate replaces every credential and impersonation header with the
// impersonation of u.
func impersonate(hdr http.Header, u *User) {
	hdr.Del("Authorization")
	for k := range hdr {
		if strings.HasPrefix(k, "Impersonate-") {
			hdr.Del(k)
		}
	}
	hdr.Set("Impersonate-User", u.Name)
	for _, g := range u.Groups {
		hdr.Add("Impersonate-Group", g)
	}
	if u.UID != "" {
		hdr.Set("Impersonate-Uid", u.UID)
	}
	for k, vs := range u.Extra {
		for _, v := range vs {
			hdr.Add("Impersonate-Extra-"+k, v)
		}
	}
}

// transport returns cluster id's transport: its connections are streams
// of id's tunnel only, so no request can reach another child.
func (h *Hub) transport(id string) *http.Transport {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.transports[id]
	if t == nil {
		t = &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				s := h.session(id)
				if s == nil {
					return nil, fmt.Errorf("cluster %q is not connected to the hub", id)
				}
				return s.Dial(ctx)
			},
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}
		h.transports[id] = t
	}
	return t
}

// closeIdle drops id's idle connections (its tunnel went down).
func (h *Hub) closeIdle(id string) {
	h.mu.Lock()
	t := h.transports[id]
	h.mu.Unlock()
	if t != nil {
		t.CloseIdleConnections()
	}
}

// validID checks that id is a DNS label: 1 to 63 lower-case letters,
// digits and '-', starting and ending with a letter or digit.
func validID(id string) error {
	ok := len(id) >= 1 && len(id) <= 63 && id[0] != '-' && id[len(id)-1] != '-'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("cluster ID %q is not a DNS label", id)
	}
	return nil
}

func metaOf(id string) store.ObjectMeta {
	return store.ObjectMeta{Name: id, Namespace: multicluster.ClusterNamespace(id)}
}

func resourceAttributes(verb, resource, sub, ns, name string) authorization.ResourceAttributes {
	return authorization.ResourceAttributes{Verb: verb, Group: multicluster.GroupName, Version: multicluster.Version,
		Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

// writeStatus answers with a Kubernetes Status, as kubectl expects.
func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	st := watch.NewStatus(code, reason, msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(st)
}

type metrics struct {
	proxied       *prometheus.CounterVec
	lostApprovals prometheus.Counter
	renewals      prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, r *registry) (*metrics, error) {
	m := &metrics{proxied: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "setpoint_hub_proxy_requests_total", Help: "Requests proxied to child clusters, by the child's status code (or unavailable).",
	}, []string{"code"}), lostApprovals: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "setpoint_hub_registration_conflicts_total",
		Help: "Approvals whose conditional status write lost to another writer (another hub, a human), which then used the stored answer.",
	}), renewals: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "setpoint_hub_token_renewals_total", Help: "Agent tokens renewed.",
	})}
	count := func(typ string) func() float64 {
		return func() float64 {
			n := 0
			for _, c := range r.list() {
				for _, cd := range c.Status.Conditions {
					if cd.Type == typ && cd.Status == api.ConditionTrue {
						n++
					}
				}
			}
			return float64(n)
		}
	}
	for _, c := range []prometheus.Collector{m.proxied, m.lostApprovals, m.renewals,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "setpoint_hub_clusters_ready", Help: "Managed clusters that are Ready."}, count(multicluster.ConditionReady)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "setpoint_hub_tunnels_connected", Help: "Managed clusters whose tunnel is up."}, count(multicluster.ConditionTunnelConnected)),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("hub metrics: %w", err)
		}
	}
	return m, nil
}
