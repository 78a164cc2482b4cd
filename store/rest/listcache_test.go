package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

// TestCachedListWireBytes: lists served from the watch cache (consistent,
// resourceVersion=0, selectors, pages) are byte for byte what the etcd
// path wrote for the same store list: json.Marshal of the list, items
// included.
func TestCachedListWireBytes(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for i := range 7 {
		w := &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("w", i), Labels: map[string]string{"app": fmt.Sprint("a", i%2)}}}
		w.Spec.Color = []string{"red", "blue", "<&>"}[i%3]
		w.Spec.Size = i
		if _, err := ts.st.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ts.st.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "other", Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ns, query string
		sel       string
		color     string
		limit     int64
	}{
		{ns: "ns"},
		{ns: "", query: "resourceVersion=0"},
		{ns: "ns", query: "labelSelector=app%3Da1", sel: "app=a1"},
		{ns: "ns", query: "fieldSelector=spec.color%3Dblue", color: "blue"},
		{ns: "ns", query: "limit=3", limit: 3},
		{ns: "", query: "limit=2&labelSelector=app%21%3Da1", sel: "app!=a1", limit: 2},
	} {
		path := "/apis/test.setpoint.dev/v1/widgets"
		if c.ns != "" {
			path = "/apis/test.setpoint.dev/v1/namespaces/" + c.ns + "/widgets"
		}
		sel, err := store.ParseSelector(c.sel)
		if err != nil {
			t.Fatal(err)
		}
		var filter func(store.Object) bool
		if c.color != "" {
			filter = func(o store.Object) bool { return o.(*widget).Spec.Color == c.color }
		}
		q, cont, rev := c.query, "", int64(0)
		for page := 0; ; page++ {
			code, st, body := ts.do(t, "GET", path+"?"+q, "", "")
			if code != 200 {
				t.Fatalf("%s?%s: %d %+v", path, q, code, st)
			}
			var got listResp
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if rev == 0 {
				if rev, err = store.ParseRevision(got.Metadata.ResourceVersion); err != nil {
					t.Fatal(err)
				}
			}
			l, err := ts.st.List(ctx, c.ns, store.ListOptions{Selector: sel, Filter: filter, Limit: c.limit, Revision: rev, Continue: cont})
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(&wireList[*widget]{Kind: "WidgetList", APIVersion: "test.setpoint.dev/v1",
				Metadata: listMeta{ResourceVersion: store.FormatRevision(l.Revision), Continue: l.Continue}, Items: l.Items})
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != string(want)+"\n" {
				t.Fatalf("%s?%s page %d:\ngot  %s\nwant %s", path, q, page, body, want)
			}
			if l.Continue == "" {
				break
			}
			cont = l.Continue
			q = url.Values{"continue": {cont}, "limit": {fmt.Sprint(c.limit)}, "labelSelector": {c.sel}}.Encode()
		}
	}
}

// TestCachedListEncodesEachObjectOnce: a protobuf list served from the
// cache encodes each object once; listing again reuses the encodings.
func TestCachedListEncodesEachObjectOnce(t *testing.T) {
	gs := newGearServer(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := gs.st.Create(ctx, &gear{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	const pbType = "application/vnd.kubernetes.protobuf"
	// resourceVersion=0: served from the cache whatever its revision (a
	// consistent list may fall back to etcd on a slow machine, and the etcd
	// path encodes per request).
	base := "/apis/test.setpoint.dev/v1/namespaces/ns/gears?resourceVersion=0"
	list := func() (encoded int64, items int) {
		t.Helper()
		before := gearMarshals.Load()
		r := gs.do(t, "GET", base, "", pbType, nil)
		lm, got := decodeGearList(t, r.body)
		if r.code != 200 || lm.ResourceVersion == "" {
			t.Fatalf("list: %d %+v %d items", r.code, lm, len(got))
		}
		if len(got) == 3 && (got[0].Name != "a" || got[2].Name != "c") {
			t.Fatalf("list: items %v", got)
		}
		return gearMarshals.Load() - before, len(got)
	}
	// Until the cache is ready a list may come from etcd (encoded per
	// request) and until it holds all three it sees fewer; once it serves
	// them, a list encodes nothing: each object was encoded once and the
	// bytes are shared by every later list.
	for i := 0; ; i++ {
		if n, items := list(); items == 3 && n == 0 {
			break
		}
		if i == 100 {
			t.Fatalf("no list of the three objects was served without encoding them again")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 3 {
		if n, items := list(); n != 0 || items != 3 {
			t.Fatalf("a later list encoded %d objects again (%d items), want 0", n, items)
		}
	}
}
