package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/moby/spdystream"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/watch"
)

// Port-forward speaks SPDY/3.1 with the portforward.k8s.io stream
// protocol: per forwarded connection the client opens an error stream and
// a data stream, both carrying the headers streamType, port and requestID.
const (
	spdyUpgrade         = "SPDY/3.1"
	portForwardProtocol = "portforward.k8s.io"
	headerProtocol      = "X-Stream-Protocol-Version"
)

// servePortForward serves /portForward/<namespace>/<pod>[/<uid>].
//
// kubectl 1.32 first asks for SPDY tunnelled over a WebSocket; this server
// answers that with 400, which makes kubectl fall back to a plain SPDY
// upgrade (as it does with any kubelet that lacks the tunnel).
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("pod")
	pod, h, err := s.cfg.Host.Pod(r.Context(), r.PathValue("namespace"), name)
	switch {
	case errors.Is(err, ErrPodNotFound):
		writeStatus(w, notFound("pod %q does not exist", name))
		return
	case err != nil:
		writeStatus(w, failureStatus(err))
		return
	case r.PathValue("uid") != "" && r.PathValue("uid") != string(pod.UID):
		writeStatus(w, notFound("pod %q with UID %q does not exist", name, r.PathValue("uid")))
		return
	case h.SandboxID == "":
		writeStatus(w, badRequest("pod %q has no running sandbox yet", name))
		return
	}
	if websocket.IsWebSocketUpgrade(r) {
		writeStatus(w, badRequest("port-forward over WebSocket is not supported by this kubelet; use a SPDY/3.1 upgrade"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), spdyUpgrade) {
		writeStatus(w, badRequest("port-forward needs a connection upgrade to %s", spdyUpgrade))
		return
	}
	if !offers(r.Header.Values(headerProtocol), portForwardProtocol) {
		writeStatus(w, watch.NewStatus(http.StatusForbidden, watch.StatusReasonForbidden,
			fmt.Sprintf("unable to upgrade: unable to negotiate protocol: client supports %v, server supports [%s]",
				r.Header.Values(headerProtocol), portForwardProtocol)))
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeStatus(w, watch.NewStatus(http.StatusInternalServerError, watch.StatusReasonInternalError, "unable to upgrade: "+err.Error()))
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n%s: %s\r\n\r\n",
		spdyUpgrade, headerProtocol, portForwardProtocol)
	if brw.Flush() != nil {
		return
	}
	var nc net.Conn = conn
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		nc = &prefixConn{Conn: conn, r: io.MultiReader(strings.NewReader(string(early)), conn)}
	}
	sc, err := spdystream.NewConnection(nc, true)
	if err != nil {
		return
	}
	f := &forwarder{rt: s.cfg.Host.Runtime(), sandbox: h.SandboxID, pod: name, uid: string(pod.UID), pairs: map[string]*streamPair{}}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	f.ctx = ctx
	go sc.Serve(f.newStream)
	select {
	case <-sc.CloseChan():
	case <-ctx.Done():
	}
	sc.Close()
	cancel()
	f.wg.Wait()
}

// offers reports whether a comma-separated header list holds want.
func offers(values []string, want string) bool {
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == want {
				return true
			}
		}
	}
	return false
}

// prefixConn replays bytes read ahead by the HTTP server.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// forwarder pairs a connection's streams and copies each pair to its port.
type forwarder struct {
	ctx     context.Context
	rt      runtime.Runtime
	sandbox string
	pod     string
	uid     string
	wg      sync.WaitGroup
	mu      sync.Mutex
	pairs   map[string]*streamPair
}

type streamPair struct {
	data, err *spdystream.Stream
	port      string
}

// newStream accepts each stream the client opens and starts forwarding
// once a request's data and error streams are both open.
func (f *forwarder) newStream(st *spdystream.Stream) {
	hdr := st.Headers()
	kind, port, id := hdr.Get("streamType"), hdr.Get("port"), hdr.Get("requestID")
	if (kind != "data" && kind != "error") || port == "" {
		_ = st.Refuse()
		return
	}
	if err := st.SendReply(http.Header{}, false); err != nil {
		return
	}
	f.mu.Lock()
	p := f.pairs[id]
	if p == nil {
		p = &streamPair{port: port}
		f.pairs[id] = p
	}
	if kind == "data" {
		p.data = st
	} else {
		p.err = st
	}
	ready := p.data != nil && p.err != nil
	if ready {
		delete(f.pairs, id)
	}
	f.mu.Unlock()
	if ready {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.forward(p)
		}()
	}
}

// forward copies one pair's data stream to and from its port inside the
// sandbox, reporting a failure on the error stream.
func (f *forwarder) forward(p *streamPair) {
	defer p.err.Close()
	defer p.data.Close()
	port, err := strconv.ParseUint(p.port, 10, 16)
	if err != nil || port == 0 {
		fmt.Fprintf(p.err, "invalid port %q: must be 1-65535", p.port)
		return
	}
	conn, err := f.rt.PortForward(f.ctx, f.sandbox, uint16(port))
	if err != nil {
		fmt.Fprintf(p.err, "error forwarding port %d to pod %s, uid %s: %v", port, f.pod, f.uid, err)
		return
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(conn, p.data)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}()
	_, _ = io.Copy(p.data, conn)
	_ = p.data.Close()
	select {
	case <-done:
	case <-f.ctx.Done():
	}
}
