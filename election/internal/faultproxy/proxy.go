// Package faultproxy is a TCP proxy on the loopback interface that tests put
// between a client and a server to inject network faults: it forwards
// traffic, drops every connection (and refuses new ones) or stalls traffic
// in both directions without closing anything, until restored.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// Mode is what the proxy does with traffic.
type Mode int

// The modes.
const (
	// Pass forwards traffic.
	Pass Mode = iota
	// Drop closes every connection and closes new ones as soon as they are
	// accepted, like a crashed peer or a reset network.
	Drop
	// Stall keeps connections open but forwards nothing, like a partition
	// or a paused peer; traffic resumes on Restore.
	Stall
)

// Proxy forwards connections from its loopback address to a target.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	mode    Mode
	resume  chan struct{} // closed when a stall ends
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	dropped int
}

// New starts a proxy on 127.0.0.1 (random port) forwarding to target.
func New(target string) (*Proxy, error) {
	if target == "" {
		return nil, errors.New("faultproxy: empty target address")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, resume: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.resume)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's "127.0.0.1:port" address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Drop closes every open connection and every new one until Restore.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLocked(Drop)
	for c := range p.conns {
		_ = c.Close()
		p.dropped++
	}
}

// Stall stops forwarding in both directions, keeping connections open,
// until Restore.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLocked(Stall)
}

// Restore forwards traffic again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLocked(Pass)
}

// Dropped returns how many connections Drop has closed.
func (p *Proxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

func (p *Proxy) setLocked(m Mode) {
	if p.mode == Stall && m != Stall {
		close(p.resume)
	}
	if p.mode != Stall && m == Stall {
		p.resume = make(chan struct{})
	}
	p.mode = m
}

// Close stops the proxy, closes every connection and waits for its
// goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.setLocked(Drop)
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.mode == Drop || p.closed {
			p.dropped++
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.mode == Drop || p.closed {
			p.dropped++
			p.mu.Unlock()
			_ = c.Close()
			_ = up.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies src to dst, holding data while the proxy stalls, and closes
// both ends when either fails.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	defer func() {
		_ = src.Close()
		_ = dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			resume, mode := p.resume, p.mode
			p.mu.Unlock()
			if mode == Stall {
				<-resume
			}
			p.mu.Lock()
			mode = p.mode
			p.mu.Unlock()
			if mode == Drop {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
