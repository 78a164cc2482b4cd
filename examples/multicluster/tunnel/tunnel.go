package tunnel

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"

	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
)

// Paths and headers of the hub's API for agents and callers.
const (
	// PathPrefix is the root of the hub's API.
	PathPrefix = "/apis/" + multicluster.GroupVersion
	// ConnectPath is where an agent opens its tunnel (a WebSocket
	// upgrade), with ClusterIDHeader naming its cluster.
	ConnectPath = PathPrefix + "/tunnel"
	// ClusterIDHeader names the agent's cluster on ConnectPath.
	ClusterIDHeader = "X-Setpoint-Cluster-Id"
	// ClustersPath lists the managed clusters (GET); ClustersPath +
	// "/<id>/heartbeat" takes an agent's heartbeat (POST), ClustersPath +
	// "/<id>/token" renews its token (POST) and ClustersPath +
	// "/<id>/proxy/<path>" proxies a Kubernetes API request to the child.
	ClustersPath = PathPrefix + "/clusters"
	// RegistrationsPath takes an agent's ClusterRegistrationRequest
	// (POST), made with a bootstrap token.
	RegistrationsPath = PathPrefix + "/clusterregistrationrequests"
)

// HeartbeatPath is where the agent of cluster id posts its heartbeats.
func HeartbeatPath(id string) string { return ClustersPath + "/" + id + "/heartbeat" }

// TokenPath is where the agent of cluster id renews its token: a POST
// with the current one answers with an authentication.k8s.io/v1
// TokenRequest holding a new token (status.token) and its expiry
// (status.expirationTimestamp).
func TokenPath(id string) string { return ClustersPath + "/" + id + "/token" }

// ProxyPath is the base path through which the hub proxies requests to
// cluster id: kubectl --server https://<hub><ProxyPath(id)> reaches it.
func ProxyPath(id string) string { return ClustersPath + "/" + id + "/proxy" }

// DialFunc opens a connection to the child apiserver, authenticated as
// the agent.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Dialer returns the agent's DialFunc: it connects to childAddr
// (host:port) and completes a TLS handshake with tlsConfig (the child's
// CA and the agent's client certificate). HTTP/1.1 is negotiated: the hub
// speaks it into the stream, as upgrades need.
func Dialer(childAddr string, tlsConfig *tls.Config) DialFunc {
	host, _, _ := net.SplitHostPort(childAddr)
	cfg := tlsConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, "tcp", childAddr)
		if err != nil {
			return nil, fmt.Errorf("tunnel: dialing child apiserver %s: %w", childAddr, err)
		}
		conn := tls.Client(raw, cfg)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tunnel: TLS to child apiserver %s: %w", childAddr, err)
		}
		return conn, nil
	}
}

// muxConfig is the multiplexer's configuration on both ends: keep-alive
// pings every 15 s (a silent peer fails the session after the 10 s write
// timeout), no logging to stderr.
func muxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 15 * time.Second
	c.LogOutput = nil
	c.Logger = log.New(io.Discard, "", 0)
	return c
}

// Connect opens the tunnel of cluster id to the hub at hubURL (https://…)
// and connects every stream the hub opens to the child with dial, until
// ctx ends or the connection drops; it returns why. onConnect, if set, is
// called once the tunnel is up.
func Connect(ctx context.Context, hubURL, id string, header http.Header, hubTLS *tls.Config, dial DialFunc, onConnect func()) error {
	wsURL := "wss://" + strings.TrimPrefix(strings.TrimSuffix(hubURL, "/"), "https://") + ConnectPath
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(ClusterIDHeader, id)
	d := &websocket.Dialer{TLSClientConfig: hubTLS, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, wsURL, h)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			return fmt.Errorf("tunnel: connecting to %s: %s", wsURL, resp.Status)
		}
		return fmt.Errorf("tunnel: connecting to %s: %w", wsURL, err)
	}
	sess, err := yamux.Server(newWSConn(ws), muxConfig())
	if err != nil {
		ws.Close()
		return fmt.Errorf("tunnel: %w", err)
	}
	defer sess.Close()
	defer context.AfterFunc(ctx, func() { sess.Close() })()
	if onConnect != nil {
		onConnect()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		stream, err := sess.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("tunnel: session with %s: %w", hubURL, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveStream(ctx, stream, dial)
		}()
	}
}

// serveStream connects one stream from the hub to the child.
func serveStream(ctx context.Context, stream net.Conn, dial DialFunc) {
	defer stream.Close()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	child, err := dial(dctx)
	cancel()
	if err != nil {
		// the hub's request fails with a closed stream; it reports a
		// bad gateway
		return
	}
	defer child.Close()
	Pipe(stream, child)
}

// Pipe copies between a and b both ways until either side ends, then
// closes both.
func Pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
	<-done
}

// Session is the hub's end of one agent's tunnel.
type Session struct {
	mux *yamux.Session
}

// Accept upgrades the agent's request (already authorized) to its tunnel.
// The request is hijacked: the caller writes nothing to w afterwards,
// whatever the outcome.
func Accept(w http.ResponseWriter, r *http.Request) (*Session, error) {
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return nil, fmt.Errorf("tunnel: upgrading: %w", err) // the upgrader has answered
	}
	mux, err := yamux.Client(newWSConn(ws), muxConfig())
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("tunnel: %w", err)
	}
	return &Session{mux: mux}, nil
}

// Dial opens a stream to the child apiserver through the tunnel.
func (s *Session) Dial(ctx context.Context) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := s.mux.Open()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("tunnel: opening a stream: %w", r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Done is closed when the tunnel has dropped.
func (s *Session) Done() <-chan struct{} { return s.mux.CloseChan() }

// Close closes the tunnel.
func (s *Session) Close() error { return s.mux.Close() }

// ErrClosed is returned by a wsConn once it is closed.
var ErrClosed = errors.New("tunnel: connection closed")

// wsConn is a byte stream over a WebSocket's binary messages: one reader
// and one writer goroutine at a time, which is what the multiplexer on
// top of it uses (its receive and send loops), and what the WebSocket
// library allows.
type wsConn struct {
	ws      *websocket.Conn
	r       io.Reader // the current message's rest
	pending []byte    // a data frame's header, sent with its body
}

func newWSConn(ws *websocket.Conn) *wsConn { return &wsConn{ws: ws} }

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			typ, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, fmt.Errorf("tunnel: unexpected WebSocket message type %d", typ)
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// yamux's frame header: version, type, flags (2), stream (4), length (4);
// a data frame's body of that length follows in a second Write.
const (
	muxHeaderSize = 12
	muxTypeData   = 0
)

// Write sends p as one WebSocket message, except that a data frame's
// header is held back and sent in one message with the body that follows
// it: the multiplexer writes them separately, and one message instead of
// two halves the TLS records and segments per frame.
func (c *wsConn) Write(p []byte) (int, error) {
	if len(c.pending) == 0 && len(p) == muxHeaderSize && p[1] == muxTypeData && binary.BigEndian.Uint32(p[8:]) > 0 {
		c.pending = append(c.pending[:0], p...)
		return len(p), nil
	}
	if len(c.pending) == 0 {
		if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w, err := c.ws.NextWriter(websocket.BinaryMessage)
	if err == nil {
		_, err = w.Write(c.pending)
		c.pending = c.pending[:0]
		if err == nil {
			_, err = w.Write(p)
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error { return c.ws.Close() }
