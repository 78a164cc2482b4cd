package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestTimeRejectsOutOfRange: a timestamp whose UTC form leaves years
// 0000-9999 has no RFC 3339 form, so decoding it is an error naming the
// year, and the destination keeps its value (issue 12 case 10: such a time
// was stored and then broke every read of its resource).
func TestTimeRejectsOutOfRange(t *testing.T) {
	keep := store.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct{ in, want string }{
		{`"9999-12-31T23:59:59-23:59"`, "year 10000"},
		{`"9999-12-31T23:00:00-01:00"`, "year 10000"},
		{`"0000-01-01T00:00:00+00:01"`, "year -1"},
		{`"0000-01-01T00:00:00+23:59"`, "year -1"},
		{`12`, "JSON string"},
		{`"2030-13-01T00:00:00Z"`, "month out of range"},
		{`""`, "cannot parse"},
	} {
		got := keep
		err := json.Unmarshal([]byte(c.in), &got)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Unmarshal(%s) = %v, want an error containing %q", c.in, err, c.want)
		}
		if !got.Equal(keep.Time) {
			t.Errorf("Unmarshal(%s) changed the value to %v", c.in, got)
		}
	}
	// The edges themselves are fine.
	for _, in := range []string{`"9999-12-31T23:59:59Z"`, `"0000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59+23:59"`, `"0000-01-01T00:00:00-05:00"`} {
		var got store.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", in, err)
		}
	}
	for _, y := range []int{-1, 10000} {
		if b, err := json.Marshal(store.Time{Time: time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
			t.Errorf("Marshal of year %d = %s, want an error", y, b)
		}
	}
}

type event struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	FirstTimestamp   store.Time      `json:"firstTimestamp,omitzero"`
	EventTime        store.MicroTime `json:"eventTime,omitzero"`
}

var eventResource = store.Resource{Name: "events", APIVersion: "v1", Kind: "Event", Namespaced: true}

// TestStoreRefusesOutOfRangeTime: a Go caller cannot store such a time
// either: Create and Update fail with ErrInvalid and write nothing.
func TestStoreRefusesOutOfRangeTime(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	events, err := store.New[*event](b, eventResource)
	if err != nil {
		t.Fatal(err)
	}
	rev0, _ := b.Revision(ctx)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, ev := range map[string]*event{
		"Time":      {ObjectMeta: store.ObjectMeta{Namespace: "a", Name: "t"}, FirstTimestamp: store.Time{Time: far}},
		"MicroTime": {ObjectMeta: store.ObjectMeta{Namespace: "a", Name: "m"}, EventTime: store.MicroTime{Time: far}},
	} {
		if _, err := events.Create(ctx, ev); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: Create = %v, want ErrInvalid", name, err)
		}
	}
	ok, err := events.Create(ctx, &event{ObjectMeta: store.ObjectMeta{Namespace: "a", Name: "ok"}})
	if err != nil {
		t.Fatal(err)
	}
	rev1, _ := b.Revision(ctx)
	ok.FirstTimestamp = store.Time{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := events.Update(ctx, ok); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Update = %v, want ErrInvalid", err)
	}
	if rev2, _ := b.Revision(ctx); rev2 != rev1 || rev1 != rev0+1 {
		t.Errorf("revisions %d, %d, %d: a refused write was stored", rev0, rev1, rev2)
	}
}

// FuzzTime: decoding never panics, and whatever decodes encodes and decodes
// again to the same instant (so a stored Time can always be read back).
func FuzzTime(f *testing.F) {
	for _, s := range []string{
		`"2025-01-02T02:04:05Z"`, `"2025-01-02T02:04:05.5+05:30"`, `"9999-12-31T23:59:59Z"`,
		`"9999-12-31T23:59:59-23:59"`, `"0000-01-01T00:00:00+00:01"`, `"0000-01-01T00:00:00Z"`, `null`, `12`, `""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var m store.Time
		if err := json.Unmarshal([]byte(in), &m); err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%s decoded to %v, which does not encode: %v", in, m.Time, err)
		}
		var again store.Time
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if !again.Equal(m.Time) {
			t.Fatalf("%s: %v then %v", in, m.Time, again.Time)
		}
	})
}

// TestListSkipsUndecodable: one stored value that does not decode (written
// by an older version, say, or straight to etcd) does not break the list for
// everyone else; a Get of that object still fails and names it.
func TestListSkipsUndecodable(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	events, err := store.New[*event](b, eventResource)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a1", "c1"} {
		if _, err := events.Create(ctx, &event{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
	bad := `{"metadata":{"name":"b1","namespace":"ns"},"firstTimestamp":"10000-01-01T23:58:59Z"}`
	if _, err := b.Create(ctx, events.Key("ns", "b1"), []byte(bad)); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"", "ns"} {
		l, err := events.List(ctx, ns, store.ListOptions{})
		if err != nil {
			t.Fatalf("List(%q): %v", ns, err)
		}
		if len(l.Items) != 2 || l.Items[0].Name != "a1" || l.Items[1].Name != "c1" {
			t.Fatalf("List(%q) = %d items, want a1 and c1", ns, len(l.Items))
		}
	}
	// Paged: the bad value does not end the pages early either.
	l, err := events.List(ctx, "ns", store.ListOptions{Limit: 1})
	if err != nil || len(l.Items) != 1 || l.Continue == "" {
		t.Fatalf("page 1: %v, %+v", err, l)
	}
	l, err = events.List(ctx, "ns", store.ListOptions{Limit: 1, Continue: l.Continue})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "c1" {
		t.Fatalf("page 2: %v, %+v", err, l)
	}
	if _, err := events.Get(ctx, "ns", "b1"); err == nil || !strings.Contains(err.Error(), "b1") {
		t.Fatalf("Get of the bad value = %v, want an error naming it", err)
	}
}
