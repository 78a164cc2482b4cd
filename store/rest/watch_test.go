package rest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestWatchSendInitialEventsAndTable(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, n := range []string{"a", "b"} {
		if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	rev := storeRevision(t, ts.st)
	req, _ := http.NewRequest("GET", ts.srv.URL+widgets+"?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan", nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := ts.srv.Client().Do(req.WithContext(rctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 || !strings.Contains(lines[0], `"ADDED"`) || !strings.Contains(lines[1], `"ADDED"`) ||
		!strings.Contains(lines[2], `"BOOKMARK"`) || !strings.Contains(lines[2], `"k8s.io/initial-events-end":"true"`) ||
		!strings.Contains(lines[2], `"resourceVersion":"`+store.FormatRevision(rev)+`"`) {
		t.Fatalf("initial events: %q", lines)
	}
	// a change after the bookmark arrives next
	if _, err := ts.st.Create(ctx, storetest.NewWidget("ns", "c", nil)); err != nil {
		t.Fatal(err)
	}
	if !sc.Scan() || !strings.Contains(sc.Text(), `"ADDED"`) || !strings.Contains(sc.Text(), `"name":"c"`) {
		t.Fatalf("event after initial events: %q %v", sc.Text(), sc.Err())
	}
	// Table output
	req, _ = http.NewRequest("GET", ts.srv.URL+widgets, nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	tr, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(tr.Body)
	tr.Body.Close()
	var tbl struct {
		Kind    string `json:"kind"`
		Columns []struct {
			Name string `json:"name"`
		} `json:"columnDefinitions"`
		Rows []struct {
			Cells []any `json:"cells"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &tbl); err != nil || tbl.Kind != "Table" || len(tbl.Rows) != 3 || tbl.Rows[0].Cells[0] != "a" {
		t.Fatalf("table: %s (%v)", data, err)
	}
}

func TestWatchGoneAndOldRevision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var revA, revC int64
	// History before the watch cache starts: a and b, compacted, then c.
	ts := newTestServer(t, func(cfg *Config[*widget]) {
		a, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "a", nil))
		if err != nil {
			t.Fatal(err)
		}
		revA, _ = store.ParseRevision(a.ResourceVersion)
		if _, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "b", nil)); err != nil {
			t.Fatal(err)
		}
		rev, _ := cfg.Store.Backend().Revision(ctx)
		if err := cfg.Store.Backend().Compact(ctx, rev); err != nil {
			t.Fatal(err)
		}
		c, err := cfg.Store.Create(ctx, storetest.NewWidget("ns", "c", nil))
		if err != nil {
			t.Fatal(err)
		}
		revC, _ = store.ParseRevision(c.ResourceVersion)
	})
	// A revision older than the cache but still in the store's history is
	// replayed from the store.
	w, err := ts.c.Watch(ctx, "ns", store.WatchOptions{AfterRevision: revC - 1})
	if err != nil {
		t.Fatal(err)
	}
	ev := <-w.Events()
	w.Stop()
	if ev.Type != watch.Added || ev.Object.Name != "c" {
		t.Fatalf("replayed event: %+v (%v)", ev, w.Err())
	}
	// A compacted revision gives 410 -> ErrGone, at the call or as the
	// stream's end.
	w, err = ts.c.Watch(ctx, "ns", store.WatchOptions{AfterRevision: revA - 1})
	if err == nil {
		for range w.Events() {
			t.Fatalf("an event from a compacted revision")
		}
		err = w.Err()
	}
	if !errors.Is(err, store.ErrGone) {
		t.Fatalf("watch from a compacted revision: %v, want ErrGone", err)
	}
}

// TestRunEndEndsWatches: when Run's context ends, every watch response
// ends cleanly, including one replaying history straight from the store.
func TestRunEndEndsWatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var old int64
	b := memory.New()
	defer b.Close()
	st, err := store.New[*widget](b, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	w0, err := st.Create(ctx, storetest.NewWidget("ns", "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	old, _ = store.ParseRevision(w0.ResourceVersion)
	h, err := NewHandler(Config[*widget]{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _ := NewClient[*widget](srv.Client(), srv.URL, storetest.WidgetResource)
	direct, err := c.Watch(ctx, "ns", store.WatchOptions{AfterRevision: old - 1}) // before the cache: from the store
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-direct.Events(); ev.Object == nil || ev.Object.Name != "a" {
		t.Fatalf("replayed event: %+v", ev)
	}
	cached, err := c.Watch(ctx, "ns", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, w := range []watch.Watcher[*widget]{direct, cached} {
		for range w.Events() {
		}
		if !errors.Is(w.Err(), watch.ErrClosed) {
			t.Fatalf("watch ended with %v, want a clean end", w.Err())
		}
	}
}

// TestWatchHTTPMatchesStoreWatch: the same history watched through
// Store.Watch, through the handler's watch cache, and over HTTP (raw
// requests with label and field selectors, and the typed Client) gives the
// same events for every selector, including changes whose previous state the
// backend did not send and values that do not decode; and they are the
// events storetest.SelectorCases writes out.
func TestWatchHTTPMatchesStoreWatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	script := storetest.NewSelectorScript()
	mem := memory.New()
	defer mem.Close()
	b := storetest.NewFaulty(mem)
	b.DropPrevValues(script.Dropped)
	st, err := store.New[*widget](b, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config[*widget]{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	runHandler(t, ctx, h)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, err := NewClient[*widget](srv.Client(), srv.URL, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := b.Revision(ctx)
	type stream struct {
		path string
		next func() (watch.Event[*widget], error)
		stop func()
	}
	cases := storetest.SelectorCases()
	streams := make([][]stream, len(cases))
	for i, c := range cases {
		opts := c.Options(t, start)
		sw, err := st.Watch(ctx, c.Namespace, opts)
		if err != nil {
			t.Fatal(err)
		}
		cw, err := h.cache.Watch(ctx, c.Namespace, opts)
		if err != nil {
			t.Fatal(err)
		}
		fromWatcher := func(path string, w watch.Watcher[*widget]) stream {
			return stream{path, func() (watch.Event[*widget], error) {
				ev, ok := <-w.Events()
				if !ok {
					return ev, w.Err()
				}
				return ev, nil
			}, w.Stop}
		}
		streams[i] = append(streams[i], fromWatcher("Store.Watch", sw), fromWatcher("watch cache", cw))
		// Raw HTTP, decoded with the one wire decoder.
		q := url.Values{"watch": {"true"}, "resourceVersion": {store.FormatRevision(start)}}
		if c.Label != "" {
			q.Set("labelSelector", c.Label)
		}
		if c.FieldName != "" {
			q.Set("fieldSelector", "metadata.name="+c.FieldName)
		}
		path := "/apis/test.setpoint.dev/v1/widgets"
		if c.Namespace != "" {
			path = "/apis/test.setpoint.dev/v1/namespaces/" + c.Namespace + "/widgets"
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path+"?"+q.Encode(), nil)
		resp, err := srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: watch request: %v %v", c.Name, resp.Status, err)
		}
		dec := watch.NewDecoder(resp.Body, 0)
		streams[i] = append(streams[i], stream{"HTTP", func() (watch.Event[*widget], error) {
			we, err := dec.Next()
			if err != nil {
				return watch.Event[*widget]{}, err
			}
			return watch.DecodeEvent[*widget](we)
		}, func() { resp.Body.Close() }})
		if c.FieldName == "" { // field selectors do not travel through the typed client
			w, err := client.Watch(ctx, c.Namespace, opts)
			if err != nil {
				t.Fatal(err)
			}
			streams[i] = append(streams[i], fromWatcher("Client.Watch", w))
		}
	}
	revs := script.Run(t, b, st)
	last := revs[len(revs)-1]
	for i, c := range cases {
		for _, s := range streams[i] {
			var got []string
			for {
				ev, err := s.next()
				if err != nil {
					t.Fatalf("%s via %s: stream ended after %q: %v", c.Name, s.path, got, err)
				}
				got = append(got, storetest.FormatSelectorEvent(string(ev.Type), ev.Object, ev.Revision, revs))
				if ev.Revision == last {
					break
				}
			}
			s.stop()
			if d := cmp.Diff(c.Want, got); d != "" {
				t.Errorf("%s via %s: events differ (-want +got):\n%s", c.Name, s.path, d)
			}
		}
	}
}

// TestWatchStalledHTTPClientIsCutOff is field case 11 over HTTP: a client
// that opens a watch and never reads. The handler's writes block once the
// connection's buffers are full; the watch cache cuts the watcher off when
// it falls behind its byte budget, the blocked write then fails at once and
// the handler lets the connection go, while the window stays within its byte
// budget and a reading watcher sees every event.
func TestWatchStalledHTTPClientIsCutOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := memory.New()
	defer b.Close()
	st, err := store.New[*widget](b, storetest.WidgetResource)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	const windowBytes, watcherBytes = 512 << 10, 64 << 10
	h, err := NewHandler(Config[*widget]{Store: st, Registerer: reg,
		WatchCache: store.WatchCacheConfig{Window: 100000, WindowBytes: windowBytes, WatcherBytes: watcherBytes}})
	if err != nil {
		t.Fatal(err)
	}
	runHandler(t, ctx, h)
	closedConns := &connSet{m: map[string]bool{}}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closedConns.add(c.RemoteAddr().String())
		}
	}
	srv.Start()
	defer srv.Close()
	start, _ := b.Revision(ctx)
	// The stalled client: a raw connection with a small receive buffer that
	// sends the request and reads nothing.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(conn, "GET /apis/test.setpoint.dev/v1/namespaces/ns/widgets?watch=true&resourceVersion=%d HTTP/1.1\r\nHost: test\r\n\r\n", start)
	client, _ := NewClient[*widget](srv.Client(), srv.URL, storetest.WidgetResource)
	live, err := client.Watch(ctx, "ns", store.WatchOptions{AfterRevision: start})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	metric := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				m := mf.GetMetric()[0]
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
		return -1
	}
	pad := strings.Repeat("x", 16<<10)
	var maxWindow int64
	for i := 0; metric("setpoint_watch_broadcaster_too_slow_total") < 1; i++ {
		if i == 2000 { // 32 MiB: far more than any socket buffers
			t.Fatal("the stalled HTTP watcher was never cut off")
		}
		w := storetest.NewWidget("ns", fmt.Sprint("w", i), nil)
		w.Spec.Data = pad
		if _, err := st.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
		select {
		case ev, ok := <-live.Events():
			if !ok || ev.Object.Name != w.Name {
				t.Fatalf("live watcher: %v %v", ev.Object, live.Err())
			}
		case <-ctx.Done():
			t.Fatal("live watcher stalled")
		}
		maxWindow = max(maxWindow, h.cache.WindowBytes())
	}
	if maxWindow > windowBytes {
		t.Fatalf("the window held %d bytes, over its budget of %d", maxWindow, windowBytes)
	}
	// The handler let go of the stalled connection: the server closed it
	// (what its buffers held drains from the kernel, not from the process).
	stalledAddr := conn.LocalAddr().String()
	for deadline := time.Now().Add(30 * time.Second); !closedConns.has(stalledAddr); {
		if time.Now().After(deadline) {
			t.Fatal("the server kept the stalled watch's connection open")
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := metric("setpoint_watch_broadcaster_subscribers"); got != 1 {
		t.Fatalf("%v subscribers after the cut-off, want only the live one", got)
	}
}

// connSet records connection addresses.
type connSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *connSet) add(a string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[a] = true
}

func (s *connSet) has(a string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[a]
}

// runHandler runs h until the test ends, and checks Run's result.
func runHandler[T store.Object](t *testing.T, ctx context.Context, h *Handler[T]) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
