package rest

import (
	"context"
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestClientDryRun: the typed client honours store.WithDryRun like the
// store does (it sends dryRun=All), so a dry run through either writes
// nothing (issue 12 case 1).
func TestClientDryRun(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	w, err := ts.c.Create(ctx, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	dry := store.WithDryRun(ctx)
	rev := storeRevision(t, ts.st)
	got, err := ts.c.Create(dry, &widget{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "b"}})
	if err != nil || got.Name != "b" || got.ResourceVersion != "" || got.UID == "" {
		t.Fatalf("dry-run create: %+v, %v", got, err)
	}
	upd := store.Clone(w)
	upd.Spec.Size = 7
	if got, err = ts.c.Update(dry, upd); err != nil || got.Spec.Size != 7 {
		t.Fatalf("dry-run update: %+v, %v", got, err)
	}
	upd.Spec.Size = -1
	if _, err = ts.c.Update(dry, upd); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("dry-run update of an invalid object: %v", err)
	}
	if got, err = ts.c.Delete(dry, "ns", "a"); err != nil || got.Name != "a" {
		t.Fatalf("dry-run delete: %+v, %v", got, err)
	}
	if got, err = ts.c.GuaranteedUpdate(dry, "ns", "a", func(w *widget) (*widget, error) { w.Spec.Color = "blue"; return w, nil }); err != nil || got.Spec.Color != "blue" {
		t.Fatalf("dry-run guaranteed update: %+v, %v", got, err)
	}
	if now := storeRevision(t, ts.st); now != rev {
		t.Fatalf("client dry runs wrote: revision %d -> %d", rev, now)
	}
	if cur, err := ts.st.Get(ctx, "ns", "a"); err != nil || cur.Spec.Size != 0 || cur.Spec.Color != "" {
		t.Fatalf("a after the dry runs: %+v, %v", cur, err)
	}
}

func TestParseDryRun(t *testing.T) {
	for _, c := range []struct {
		vals []string
		dry  bool
		ok   bool
	}{{nil, false, true}, {[]string{"All"}, true, true}, {[]string{"All", "All"}, true, true},
		{[]string{"all"}, false, false}, {[]string{""}, false, false}, {[]string{"All", "Bogus"}, false, false}} {
		dry, err := parseDryRun(c.vals)
		if dry != c.dry || (err == nil) != c.ok {
			t.Errorf("parseDryRun(%q) = %v, %v", c.vals, dry, err)
		}
		var se *watch.StatusError
		if err != nil && (!errors.As(err, &se) || se.Status.Code != 400) {
			t.Errorf("parseDryRun(%q): %v, want a 400", c.vals, err)
		}
	}
}
