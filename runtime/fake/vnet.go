package fake

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// vnet is a simulated network namespace: the TCP listeners of its
// processes, reached by net.Pipe connections, and the traffic that crossed
// its eth0 (from or to another namespace).
type vnet struct {
	ip        string
	mu        sync.Mutex
	listeners map[uint16]*vlistener
	rx, tx    atomic.Uint64
}

func newVnet(ip string) *vnet { return &vnet{ip: ip, listeners: map[uint16]*vlistener{}} }

// vaddr is a simulated TCP address.
type vaddr struct{ ip, port string }

func (a vaddr) Network() string { return "tcp" }
func (a vaddr) String() string  { return net.JoinHostPort(a.ip, a.port) }

func opErr(op, addr string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Addr: vaddr{addr, ""}, Err: err}
}

// listen makes a listener on addr ("host:port"; the host must be empty, a
// wildcard, loopback or the namespace's IP; port 0 is not supported).
func (n *vnet) listen(addr string, onClose func(*vlistener)) (*vlistener, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, opErr("listen", addr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 {
		return nil, opErr("listen", addr, fmt.Errorf("the fake network needs a fixed port, not %q", p))
	}
	switch host {
	case "", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost", n.ip:
	default:
		return nil, opErr("listen", addr, syscall.EADDRNOTAVAIL)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, busy := n.listeners[uint16(port)]; busy {
		return nil, opErr("listen", addr, syscall.EADDRINUSE)
	}
	l := &vlistener{n: n, port: uint16(port), conns: make(chan net.Conn), closed: make(chan struct{}), onClose: onClose}
	n.listeners[uint16(port)] = l
	return l, nil
}

// dial connects to port in n. from is the namespace dialing (nil for the
// node or a port forward, which come in through eth0 or loopback as
// crossing says): traffic between two namespaces counts on both.
func (n *vnet) dial(ctx context.Context, from *vnet, port uint16, crossing bool) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[port]
	n.mu.Unlock()
	addr := vaddr{n.ip, strconv.Itoa(int(port))}.String()
	if l == nil {
		return nil, opErr("dial", addr, syscall.ECONNREFUSED)
	}
	client, server := net.Pipe()
	if crossing {
		server = &counted{Conn: server, in: &n.rx, out: &n.tx}
		if from != nil {
			client = &counted{Conn: client, in: &from.rx, out: &from.tx}
		}
	}
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		client.Close()
		server.Close()
		return nil, opErr("dial", addr, syscall.ECONNREFUSED)
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, opErr("dial", addr, ctx.Err())
	case <-time.After(5 * time.Second):
		// A listener that does not accept: a full backlog.
		client.Close()
		server.Close()
		return nil, opErr("dial", addr, syscall.ETIMEDOUT)
	}
}

// closeAll closes every listener (the namespace is going away).
func (n *vnet) closeAll() {
	n.mu.Lock()
	ls := make([]*vlistener, 0, len(n.listeners))
	for _, l := range n.listeners {
		ls = append(ls, l)
	}
	n.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
}

type vlistener struct {
	n       *vnet
	port    uint16
	conns   chan net.Conn
	once    sync.Once
	closed  chan struct{}
	onClose func(*vlistener)
}

// Accept waits for a connection.
func (l *vlistener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, opErr("accept", l.Addr().String(), net.ErrClosed)
	}
}

// Close stops listening and frees the port.
func (l *vlistener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.n.mu.Lock()
		if l.n.listeners[l.port] == l {
			delete(l.n.listeners, l.port)
		}
		l.n.mu.Unlock()
		if l.onClose != nil {
			l.onClose(l)
		}
	})
	return nil
}

// Addr returns the listening address.
func (l *vlistener) Addr() net.Addr { return vaddr{l.n.ip, strconv.Itoa(int(l.port))} }

// counted counts the bytes that cross a namespace's eth0.
type counted struct {
	net.Conn
	in, out *atomic.Uint64
}

// Read reads and counts received bytes.
func (c *counted) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(uint64(n))
	return n, err
}

// Write writes and counts sent bytes.
func (c *counted) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(uint64(n))
	return n, err
}
