package fanout

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// chunkWriter records every write.
type chunkWriter struct {
	mu     sync.Mutex
	chunks []string
	block  chan struct{} // when set, writes wait for it
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if w.block != nil {
		<-w.block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

func (w *chunkWriter) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.chunks...)
}

// TestStress: one writer, many clients subscribing and canceling at once.
// Every client sees a contiguous run of the chunks written, in order; the
// ones still subscribed at Close see every chunk up to the last.
func TestStress(t *testing.T) {
	s := New()
	const chunks, clients = 2000, 32
	type client struct {
		w        *chunkWriter
		sub      *Sub
		canceled bool
	}
	var mu sync.Mutex
	var all []*client
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := &client{w: &chunkWriter{}}
			c.sub = s.Subscribe(c.w)
			if i%3 == 0 {
				c.sub.Cancel()
				c.canceled = true
			}
			mu.Lock()
			all = append(all, c)
			mu.Unlock()
		}()
	}
	close(start)
	for i := 0; i < chunks; i++ {
		fmt.Fprintf(s, "%d", i)
	}
	wg.Wait()
	s.Close()
	for _, c := range all {
		<-c.sub.Done()
		got := c.w.got()
		if c.canceled {
			if !errors.Is(c.sub.Err(), ErrCanceled) {
				t.Fatalf("canceled client ended with %v", c.sub.Err())
			}
		} else if c.sub.Err() != nil {
			t.Fatalf("client ended with %v", c.sub.Err())
		}
		for j := 1; j < len(got); j++ {
			a, _ := strconv.Atoi(got[j-1])
			b, _ := strconv.Atoi(got[j])
			if b != a+1 {
				t.Fatalf("client saw %d then %d", a, b)
			}
		}
		if !c.canceled && len(got) > 0 && got[len(got)-1] != strconv.Itoa(chunks-1) {
			t.Fatalf("client still subscribed at close ends with %s, want %d", got[len(got)-1], chunks-1)
		}
	}
	if s.Subscribers() != 0 {
		t.Fatalf("%d subscribers left", s.Subscribers())
	}
}

// TestSlowClient: a client whose writer is stuck is cut off without
// holding up the stream or the other clients.
func TestSlowClient(t *testing.T) {
	s := New()
	stuck := &chunkWriter{block: make(chan struct{})}
	slow := s.Subscribe(stuck)
	fast := &chunkWriter{}
	ok := s.Subscribe(fast)
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < QueueLimit/len(big)+4; i++ {
		io.WriteString(s, big)
	}
	close(stuck.block)
	<-slow.Done()
	if !errors.Is(slow.Err(), ErrTooSlow) {
		t.Fatalf("stuck client: %v, want ErrTooSlow", slow.Err())
	}
	s.Close()
	<-ok.Done()
	if ok.Err() != nil || len(strings.Join(fast.got(), "")) != (QueueLimit/len(big)+4)*len(big) {
		t.Fatalf("fast client: %v, %d bytes", ok.Err(), len(strings.Join(fast.got(), "")))
	}
	late := s.Subscribe(&bytes.Buffer{})
	<-late.Done()
	if late.Err() != nil {
		t.Fatalf("subscribing to a closed stream: %v", late.Err())
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriterError(t *testing.T) {
	s := New()
	sub := s.Subscribe(failWriter{})
	io.WriteString(s, "x")
	<-sub.Done()
	if !errors.Is(sub.Err(), io.ErrClosedPipe) || s.Subscribers() != 0 {
		t.Fatalf("failing writer: %v, %d subscribers", sub.Err(), s.Subscribers())
	}
}
