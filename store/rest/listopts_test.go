package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

type listResp struct {
	Metadata listMeta `json:"metadata"`
	Items    []widget `json:"items"`
}

func itemNames(l listResp) string {
	var n []string
	for _, w := range l.Items {
		n = append(n, w.Name)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// TestListResourceVersionTable is issue 12 case 4 (field-cases 05): the
// API concepts table of resourceVersion x resourceVersionMatch x limit for
// lists, and ValidateListOptions for lists and watches: forbidden
// combinations are 422 Invalid on ListOptions, malformed values 400, and
// limit with an older resourceVersion is a consistent snapshot at that
// revision (410 once compacted, 504 for one from the future).
func TestListResourceVersionTable(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, n := range []string{"e1", "e2"} {
		if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	rv1 := storeRevision(t, ts.st)
	if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "later"}}); err != nil {
		t.Fatal(err)
	}
	now := storeRevision(t, ts.st)
	list := func(q string) (int, *watch.Status, listResp) {
		t.Helper()
		code, st, body := ts.do(t, "GET", widgets+"?"+q, "", "")
		var l listResp
		if code == 200 {
			if err := json.Unmarshal(body, &l); err != nil {
				t.Fatalf("?%s: %v: %s", q, err, body)
			}
		}
		return code, st, l
	}
	rv := func(n int64) string { return store.FormatRevision(n) }
	_, _, page := list("limit=1")
	tok := url.QueryEscape(page.Metadata.Continue)

	// What each combination reads.
	for _, c := range []struct {
		q         string
		items, rv string
	}{
		{"", "e1,e2,later", rv(now)},                                                // most recent
		{"resourceVersion=0", "e1,e2,later", rv(now)},                               // any
		{"resourceVersion=" + rv(rv1), "e1,e2,later", rv(now)},                      // not older than
		{"limit=10&resourceVersion=" + rv(rv1), "e1,e2", rv(rv1)},                   // exact (legacy rule)
		{"limit=10&resourceVersion=0", "e1,e2,later", rv(now)},                      // any
		{"resourceVersionMatch=Exact&resourceVersion=" + rv(rv1), "e1,e2", rv(rv1)}, // exact
		{"resourceVersionMatch=Exact&resourceVersion=" + rv(rv1) + "&limit=1", "e1", rv(rv1)},
		{"resourceVersionMatch=NotOlderThan&resourceVersion=" + rv(rv1), "e1,e2,later", rv(now)},
		{"resourceVersionMatch=NotOlderThan&resourceVersion=0", "e1,e2,later", rv(now)},
		{"limit=1&continue=" + tok, "e2", rv(now)},
		{"limit=1&continue=" + tok + "&resourceVersion=0", "e2", rv(now)},
	} {
		code, st, l := list(c.q)
		if code != 200 || itemNames(l) != c.items || l.Metadata.ResourceVersion != c.rv {
			t.Errorf("?%s: %d %v: items %q at %s, want %q at %s", c.q, code, st, itemNames(l), l.Metadata.ResourceVersion, c.items, c.rv)
		}
	}
	// Paging an exact snapshot stays at its revision.
	_, _, p1 := list("limit=1&resourceVersion=" + rv(rv1))
	_, _, p2 := list("limit=1&continue=" + url.QueryEscape(p1.Metadata.Continue))
	if itemNames(p1) != "e1" || itemNames(p2) != "e2" || p2.Metadata.Continue != "" || p2.Metadata.ResourceVersion != rv(rv1) {
		t.Errorf("pages of the snapshot at %d: %+v then %+v", rv1, p1, p2)
	}

	// Refusals.
	for _, c := range []struct {
		q, field, msg string
		code          int
	}{
		{"resourceVersionMatch=NotOlderThan", "resourceVersionMatch", "forbidden unless resourceVersion is provided", 422},
		{"resourceVersionMatch=Exact", "resourceVersionMatch", "forbidden unless resourceVersion is provided", 422},
		{"resourceVersionMatch=Exact&resourceVersion=0", "resourceVersionMatch", `"exact" is forbidden for resourceVersion "0"`, 422},
		{"resourceVersionMatch=Bogus&resourceVersion=1", "resourceVersionMatch", `Unsupported value: "Bogus"`, 422},
		{"limit=1&continue=" + tok + "&resourceVersionMatch=NotOlderThan", "resourceVersionMatch", "forbidden when continue is provided", 422},
		{"sendInitialEvents=true", "sendInitialEvents", "forbidden for list", 422},
		{"limit=1&continue=" + tok + "&resourceVersion=" + rv(rv1), "", "not allowed when using continue", 400},
		{"limit=-1", "", "limit", 400},
		{"limit=abc", "", "limit", 400},
		{"limit=99999999999999999999", "", "limit", 400},
		{"resourceVersion=-1", "", "resourceVersion", 400},
		{"resourceVersion=abc", "", "resourceVersion", 400},
		{"continue=garbage", "", "continue", 400},
		// A future revision: 504, as Kubernetes answers.
		{"resourceVersionMatch=Exact&resourceVersion=" + rv(now+100), "", "Too large resource version", 504},
		{"resourceVersion=" + rv(now+100), "", "Too large resource version", 504},
		{"limit=5&resourceVersion=9223372036854775807", "", "Too large resource version", 504},
	} {
		code, st, _ := list(c.q)
		if code != c.code || st == nil || !strings.Contains(st.Message, c.msg) {
			t.Errorf("?%s: %d %+v, want %d with %q", c.q, code, st, c.code, c.msg)
			continue
		}
		if c.code == 422 && (st.Reason != watch.StatusReasonInvalid || st.Details == nil || st.Details.Kind != "ListOptions" || st.Details.Group != "meta.k8s.io" ||
			len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != c.field) {
			t.Errorf("?%s: %+v, want Invalid ListOptions with a cause on %s", c.q, st, c.field)
		}
	}
	// A compacted snapshot: 410.
	if err := ts.st.Backend().Compact(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"limit=10&resourceVersion=" + rv(rv1), "resourceVersionMatch=Exact&resourceVersion=" + rv(rv1)} {
		if code, st, _ := list(q); code != 410 || st.Reason != watch.StatusReasonExpired {
			t.Errorf("?%s after compaction: %d %+v, want 410 Expired", q, code, st)
		}
	}
}

// TestWatchOptionRules: the watch half of ValidateListOptions, the watch
// table (sendInitialEvents), and numbers out of range (issue 12 cases 4
// and 12).
func TestWatchOptionRules(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	rv := store.FormatRevision(storeRevision(t, ts.st))
	for _, c := range []struct {
		q, msg string
		code   int
	}{
		{"resourceVersion=" + rv + "&resourceVersionMatch=NotOlderThan", "forbidden for watch unless sendInitialEvents is provided", 422},
		{"sendInitialEvents=true", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", 422},
		{"sendInitialEvents=true&resourceVersionMatch=Exact", `Unsupported value: "Exact"`, 422},
		{"sendInitialEvents=maybe&resourceVersionMatch=NotOlderThan", "sendInitialEvents", 400},
		{"timeoutSeconds=-1", "timeoutSeconds", 400},
		{"timeoutSeconds=abc", "timeoutSeconds", 400},
		{"resourceVersion=abc", "resourceVersion", 400},
		{"allowWatchBookmarks=maybe", "allowWatchBookmarks", 400},
		{"sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=9223372036854775807", "Too large resource version", 504},
	} {
		code, st, body := ts.do(t, "GET", widgets+"?watch=true&"+c.q, "", "")
		if code != c.code || st == nil || !strings.Contains(st.Message, c.msg) {
			t.Errorf("watch ?%s: %d %s, want %d with %q", c.q, code, body, c.code, c.msg)
		}
	}
	// Huge timeouts are clamped, not overflowed into a negative deadline:
	// the watch is served (and ends when the client goes).
	for _, q := range []string{"timeoutSeconds=9223372036854775807", "timeoutSeconds=99999999999999999999999"} {
		w := openWatch(t, ts, q)
		if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "a" {
			t.Fatalf("watch ?%s: first event %+v", q, ev)
		}
		w.close()
	}
	// sendInitialEvents=false: no initial state, even without a
	// resourceVersion: the first event is the next change.
	w := openWatch(t, ts, "sendInitialEvents=false&resourceVersionMatch=NotOlderThan")
	if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "b" {
		t.Fatalf("sendInitialEvents=false: first event %+v, want the new object", ev)
	}
	w.close()
	// sendInitialEvents=true without bookmarks: the state, no bookmark.
	w = openWatch(t, ts, "sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
	if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "a" {
		t.Fatalf("sendInitialEvents=true: %+v", ev)
	}
	if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "b" {
		t.Fatalf("sendInitialEvents=true: %+v", ev)
	}
	if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "c" {
		t.Fatalf("sendInitialEvents=true without bookmarks: %+v after the state, want the next change", ev)
	}
	w.close()
}

// TestWatchTimeoutStartsAfterInitialState: timeoutSeconds bounds the
// stream on the handler's clock, and the stream ends cleanly (no ERROR
// event) when it passes.
func TestWatchTimeoutStartsAfterInitialState(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ts := newTestServer(t, func(c *Config[*widget]) { c.Clock = clock })
	if _, err := ts.st.Create(context.Background(), &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	w := openWatch(t, ts, "timeoutSeconds=30")
	if ev := w.next(t); ev.Type != "ADDED" {
		t.Fatalf("first event %+v", ev)
	}
	if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(29 * time.Second)
	if _, err := ts.st.Create(context.Background(), &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if ev := w.next(t); ev.Type != "ADDED" || ev.Object.Name != "b" {
		t.Fatalf("before the timeout: %+v", ev)
	}
	clock.Advance(time.Second)
	var ev struct{ Type string }
	if err := w.dec.Decode(&ev); err != io.EOF {
		t.Fatalf("after the timeout: %+v, %v; want the stream to end", ev, err)
	}
	w.close()
}

type testWatch struct {
	resp   *http.Response
	dec    *json.Decoder
	cancel context.CancelFunc
}

type testEvent struct {
	Type   string
	Object widget
}

func openWatch(t *testing.T, ts *testServer, q string) *testWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.srv.URL+widgets+"?watch=true&"+q, nil)
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatalf("watch ?%s: %v", q, err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("watch ?%s: %d", q, resp.StatusCode)
	}
	w := &testWatch{resp: resp, dec: json.NewDecoder(resp.Body), cancel: cancel}
	t.Cleanup(w.close)
	return w
}

func (w *testWatch) next(t *testing.T) testEvent {
	t.Helper()
	var ev testEvent
	if err := w.dec.Decode(&ev); err != nil {
		t.Fatalf("reading the watch: %v", err)
	}
	return ev
}

func (w *testWatch) close() {
	w.cancel()
	w.resp.Body.Close()
}
