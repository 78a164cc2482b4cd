package apiserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// TestLimitsSlowBodies is issue 12 case 17: clients that announce a body
// and send it a byte at a time hold no in-flight slot, so other users are
// served while they trickle, and each is cut off (408, connection closed)
// once the body deadline passes. The deadline is a network deadline, on
// the real clock.
func TestLimitsSlowBodies(t *testing.T) {
	l := newLimiter(0, 0, 2, clockwork.NewFakeClock())
	l.bodyTimeout = 300 * time.Millisecond
	n := &next{}
	srv := httptest.NewServer(withLimits(n, l, 1<<20))
	t.Cleanup(srv.Close)

	const slow = 6 // three times the in-flight cap
	var conns []net.Conn
	for range slow {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "POST /api/v1/namespaces/d/pods HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n ")
		conns = append(conns, c)
	}
	// every slow client is now reading its body; a request of someone else
	// is served (it would be 429 if the trickles held the slots)
	for i := range 4 {
		resp, err := srv.Client().Post(srv.URL+"/api/v1/namespaces/d/pods", "application/json", strings.NewReader(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("request %d while %d bodies trickle: %d, want served", i, slow, resp.StatusCode)
		}
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
			t.Fatalf("slow client %d: %d (close %v), want 408 and the connection closed", i, resp.StatusCode, resp.Close)
		}
	}
	if got := n.called.Load(); got != 4 {
		t.Fatalf("the handler ran %d times, want 4 (never for a body that did not arrive)", got)
	}
}

// TestLimitsRequestTimeout: a non-long-running request's context ends
// RequestTimeout after it arrived (the rest handlers answer 504); a
// watch's has no deadline.
func TestLimitsRequestTimeout(t *testing.T) {
	clock := clockwork.NewFakeClock()
	l := newLimiter(0, 0, 4, clock)
	l.requestTimeout = time.Minute
	errc := make(chan error, 1)
	h := withLimits(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); !ok {
			errc <- errors.New("no deadline")
			return
		}
		<-r.Context().Done()
		errc <- r.Context().Err()
	}), l, 1<<20)
	go serveOne(h, request("GET", "/api/v1/namespaces/d/pods", ""))
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute - time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("request ended before its timeout: %v", err)
	default:
	}
	clock.Advance(time.Millisecond)
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request context: %v, want DeadlineExceeded", err)
	}
	w := withLimits(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); ok {
			t.Error("a watch got a request deadline")
		}
	}), l, 1<<20)
	serveOne(w, request("GET", "/api/v1/namespaces/d/pods?watch=true", ""))
}

// TestLimitsLongRunning is issue 12 case 12: watches count against their
// own cap (429 past it) and do not take, nor wait for, in-flight slots.
func TestLimitsLongRunning(t *testing.T) {
	l := newLimiter(0, 0, 1, clockwork.NewFakeClock())
	l.longRunning = make(chan struct{}, 2)
	hold := make(chan struct{})
	var started sync.WaitGroup
	h := withLimits(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started.Done()
		<-hold
		w.WriteHeader(204)
	}), l, 1<<20)
	var done sync.WaitGroup
	started.Add(3) // two watches and one list hold every slot
	for _, path := range []string{"/api/v1/pods?watch=true", "/api/v1/namespaces/d/pods?watch=1", "/api/v1/pods"} {
		done.Go(func() {
			if rec := serveOne(h, request("GET", path, "")); rec.Code != 204 {
				t.Errorf("%s: %d", path, rec.Code)
			}
		})
	}
	started.Wait()
	n := &next{}
	wantStatus(t, serveOne(withLimits(n, l, 1<<20), request("GET", "/api/v1/configmaps?watch=true", "")), n, 429, "TooManyRequests")
	wantStatus(t, serveOne(withLimits(n, l, 1<<20), request("GET", "/api/v1/configmaps", "")), n, 429, "TooManyRequests")
	close(hold)
	done.Wait()
	if rec := serveOne(withLimits(n, l, 1<<20), request("GET", "/api/v1/pods?watch=true", "")); rec.Code != 204 {
		t.Fatalf("watch after the others ended: %d", rec.Code)
	}
}
