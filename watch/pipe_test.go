package watch

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// podEvents returns n ADDED events for pods at revisions 1..n.
func podEvents(n int) []Event[*pod] {
	var out []Event[*pod]
	for i := 1; i <= n; i++ {
		out = append(out, Event[*pod]{Type: Added, Object: newPod("p", int64(i)), Revision: int64(i)})
	}
	return out
}

// servePods serves one watch per request from the stream next() returns and
// reports EncodeStream's result on results.
func servePods(t *testing.T, next func() *Stream[*pod]) (*httptest.Server, chan error) {
	results := make(chan error, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		results <- EncodeStream(r.Context(), NewEncoder(w), Watcher[*pod](next()))
	}))
	t.Cleanup(srv.Close)
	return srv, results
}

func getStream(t *testing.T, ctx context.Context, url string) *Stream[*pod] {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return DecodeStream[*pod](ctx, resp.Body, 0, 8)
}

func TestStreamOverHTTPEndsWithGone(t *testing.T) {
	src := NewStream[*pod](16)
	srv, results := servePods(t, func() *Stream[*pod] { return src })
	want := podEvents(5)
	for _, e := range want {
		src.TrySend(e)
	}
	src.Close(&GoneError{Requested: 0, Oldest: 3})

	client := getStream(t, context.Background(), srv.URL)
	var got []Event[*pod]
	for e := range client.Events() {
		got = append(got, e)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Revision != want[i].Revision || *got[i].Object != *want[i].Object {
			t.Fatalf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	var se *StatusError
	if err := client.Err(); !errors.Is(err, ErrGone) || !errors.As(err, &se) || se.Status.Code != 410 {
		t.Fatalf("client stream ended with %v, want a 410 StatusError wrapping ErrGone", err)
	}
	if err := <-results; !errors.Is(err, ErrGone) {
		t.Fatalf("EncodeStream returned %v, want ErrGone", err)
	}
}

func TestStreamOverHTTPClientStop(t *testing.T) {
	src := NewStream[*pod](16)
	srv, results := servePods(t, func() *Stream[*pod] { return src })
	src.TrySend(podEvents(1)[0])
	client := getStream(t, context.Background(), srv.URL)
	select {
	case e := <-client.Events():
		if e.Revision != 1 {
			t.Fatalf("first event %+v", e)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event")
	}
	client.Stop()
	for range client.Events() {
	}
	if err := client.Err(); !errors.Is(err, ErrStopped) {
		t.Fatalf("client ended with %v, want ErrStopped", err)
	}
	// The server notices the client went away and stops its watcher.
	select {
	case err := <-results:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("EncodeStream returned %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not notice the client leaving")
	}
	select {
	case <-src.Done():
	default:
		t.Fatal("EncodeStream did not stop the server's watcher")
	}
}

func TestDecodeStreamEnds(t *testing.T) {
	cases := []struct {
		name  string
		input string
		is    error
	}{
		{"end of input", goodAdded + "\n", ErrClosed},
		{"malformed line", goodAdded + "\n{\"type\":\"ADDED\"}\n" + goodAdded + "\n", ErrMalformed},
		{"bad object", goodAdded + "\n" + `{"type":"ADDED","object":{"metadata":{}}}` + "\n", ErrMalformed},
		{"too slow", goodAdded + "\n" + `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"slow","reason":"TooManyRequests","code":429}}` + "\n", ErrTooSlow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := DecodeStream[*pod](context.Background(), io.NopCloser(strings.NewReader(c.input)), 0, 4)
			n := 0
			for range s.Events() {
				n++
			}
			if n != 1 || !errors.Is(s.Err(), c.is) {
				t.Fatalf("got %d events and %v, want 1 and %v", n, s.Err(), c.is)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := DecodeStream[*pod](ctx, pr, 0, 4)
	cancel() // the reader is blocked on the pipe; cancelling closes it
	for range s.Events() {
	}
	if !errors.Is(s.Err(), context.Canceled) {
		t.Fatalf("cancelled stream ended with %v", s.Err())
	}
	if _, err := pw.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("the reader was not closed: write gave %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeStreamWriteError(t *testing.T) {
	src := NewStream[*pod](4)
	src.TrySend(podEvents(1)[0])
	err := EncodeStream(context.Background(), NewEncoder(failWriter{}), Watcher[*pod](src))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("EncodeStream: %v, want the write error", err)
	}
	select {
	case <-src.Done():
	default:
		t.Fatal("the watcher was not stopped")
	}
}
