package tunnel

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/yamux"
)

// acceptServer serves Accept on a loopback HTTP server and returns the
// WebSocket URL and the sessions it accepts; a session's handler returns
// when the session ends.
func acceptServer(t *testing.T) (string, <-chan *Session) {
	t.Helper()
	sessions := make(chan *Session, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := Accept(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		sessions <- s
		<-s.Done()
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), sessions
}

// muxPair connects a hub-side Session and an agent-side multiplexer
// through a real WebSocket over loopback; the agent echoes every stream.
func muxPair(t *testing.T) *Session {
	t.Helper()
	url, sessions := acceptServer(t)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := yamux.Server(newWSConn(ws), muxConfig())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			st, err := agent.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer st.Close()
				_, _ = io.Copy(st, st)
			}()
		}
	}()
	s := <-sessions
	t.Cleanup(func() {
		s.Close()
		agent.Close()
		wg.Wait()
	})
	return s
}

// TestStreamsStayApart: many concurrent streams through one tunnel, each
// echoing its own random bytes in writes of odd sizes (data frames of
// every length, with the header coalescing of wsConn); the invariant is
// that every stream reads back exactly what it wrote, and nothing else.
func TestStreamsStayApart(t *testing.T) {
	s := muxPair(t)
	const streams, size = 32, 200 << 10
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c, err := s.Dial(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			data := make([]byte, size+i)
			rand.Read(data)
			go func() {
				for off, n := 0, 1+i; off < len(data); off, n = off+n, n*3%8191+1 {
					if _, err := c.Write(data[off:min(off+n, len(data))]); err != nil {
						return
					}
				}
			}()
			got := make([]byte, len(data))
			if _, err := io.ReadFull(c, got); err != nil {
				t.Errorf("stream %d: %v", i, err)
				return
			}
			if !bytes.Equal(got, data) {
				t.Errorf("stream %d read back other bytes than it wrote", i)
			}
		}()
	}
	wg.Wait()
}

// TestDoneWhenDropped: closing the agent's side ends the hub's session,
// and Dial then fails.
func TestDoneWhenDropped(t *testing.T) {
	url, sessions := acceptServer(t)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := <-sessions
	ws.Close()
	select {
	case <-s.Done():
	case <-time.After(time.Minute):
		t.Fatal("the hub's session did not end when the agent's connection closed")
	}
	if _, err := s.Dial(context.Background()); err == nil {
		t.Error("Dial on a dropped tunnel succeeded")
	}
}

// TestDialerFailsClearly: a child that is not there gives an error naming
// it.
func TestDialerFailsClearly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Dialer(addr, &tls.Config{})(context.Background())
	if err == nil || !strings.Contains(err.Error(), "dialing child apiserver "+addr) {
		t.Errorf("dialing a closed port: %v", err)
	}
}
