package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

// TestStressConcurrentDisjointAppliers: managers apply disjoint fields of
// one object at once (a label and a list-map item each), round after
// round, starting before the object exists. No apply conflicts; at the end
// every field holds its manager's last value (no update lost) and is owned
// by exactly that manager.
func TestStressConcurrentDisjointAppliers(t *testing.T) {
	as := newApplianceServer(t)
	const managers, rounds = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, managers)
	for i := 0; i < managers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				body := fmt.Sprintf("%s  labels:\n    k%d: r%d\nspec:\n  parts:\n  - name: p%d\n    count: %d\n", applyHead, i, r, i, r)
				if err := applyUntilWritten(as, fmt.Sprintf("m%d", i), body); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	a, err := as.st.Get(context.Background(), "ns", "a")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, p := range a.Spec.Parts {
		counts[p.Name] = p.Count
	}
	for i := 0; i < managers; i++ {
		if got, want := a.Labels[fmt.Sprintf("k%d", i)], fmt.Sprintf("r%d", rounds-1); got != want {
			t.Errorf("label k%d = %q, want %q (an update was lost)", i, got, want)
		}
		if got, ok := counts[fmt.Sprintf("p%d", i)]; !ok || got != rounds-1 {
			t.Errorf("part p%d count = %d (present %v), want %d", i, got, ok, rounds-1)
		}
		label, part := fmt.Sprintf(`"f:k%d"`, i), fmt.Sprintf(`{\"name\":\"p%d\"}`, i)
		owners := 0
		for _, e := range a.ManagedFields {
			raw := string(e.FieldsV1.Raw)
			if strings.Contains(raw, label) || strings.Contains(raw, part) {
				owners++
				if e.Manager != fmt.Sprintf("m%d", i) || e.Operation != "Apply" || !strings.Contains(raw, label) || !strings.Contains(raw, part) {
					t.Errorf("k%d/p%d owned by %s (%s): %s", i, i, e.Manager, e.Operation, raw)
				}
			}
		}
		if owners != 1 {
			t.Errorf("k%d/p%d has %d owners, want exactly 1", i, i, owners)
		}
	}
	if len(a.ManagedFields) != managers {
		t.Errorf("%d managedFields entries, want %d", len(a.ManagedFields), managers)
	}
}

// applyUntilWritten applies body as manager, retrying only when the
// handler ran out of optimistic-concurrency retries (a plain 409 without
// FieldManagerConflict causes); an apply conflict is an error.
func applyUntilWritten(as *applianceServer, manager, body string) error {
	for attempt := 0; attempt < 50; attempt++ {
		req := httptest.NewRequest("PATCH", appliances+"/a?fieldManager="+manager, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/apply-patch+yaml")
		rec := httptest.NewRecorder()
		as.h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK || rec.Code == http.StatusCreated:
			return nil
		case rec.Code == http.StatusConflict && !strings.Contains(rec.Body.String(), CauseFieldManagerConflict):
			continue
		default:
			return fmt.Errorf("%s: %d %s", manager, rec.Code, rec.Body.String())
		}
	}
	return fmt.Errorf("%s: still losing write races after 50 attempts", manager)
}

// FuzzApply sends random apply bodies and parameters to an existing and a
// missing object: never a 5xx or a panic, a rejected apply writes nothing,
// and an accepted one leaves managedFields that decode.
func FuzzApply(f *testing.F) {
	for _, s := range []struct{ name, query, body string }{
		{"a", "fieldManager=m", applyHead + "spec:\n  replicas: 2\n"},
		{"a", "fieldManager=n&force=true", applyHead + "spec:\n  parts:\n  - name: x\n    count: 1\n"},
		{"b", "fieldManager=m", strings.Replace(applyHead, "name: a", "name: b", 1) + "status:\n  ready: 1\n"},
		{"a", "fieldManager=m&fieldValidation=Strict", `{"apiVersion":"test.setpoint.dev/v1","kind":"Appliance","metadata":{"name":"a"},"spec":{"tags":["a","a"]}}`},
		{"a", "fieldManager=m", `{"apiVersion":"test.setpoint.dev/v1","kind":"Appliance","metadata":{"name":"a","labels":{"x":1}}}`},
		{"a", "fieldManager=m", "- 1\n"},
		{"a", "fieldManager=m", "{{{"},
		{"a", "fieldManager=m", applyHead + "spec:\n  replicas: 99999999999\n"},
		{"a", "fieldManager=m", applyHead + "spec:\n  parts:\n  - count: 1\n"},
		{"a", "", applyHead},
		{"a", "fieldManager=m", applyHead + "  resourceVersion: \"1\"\n"},
	} {
		f.Add(s.name, s.query, s.body)
	}
	as := newApplianceServer(f)
	if code, _, st := as.apply(f, "a", "seed", "", applyHead+"spec:\n  image: x\n"); code != 201 {
		f.Fatalf("seed: %d %v", code, st)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, query, body string) {
		if name == "" || strings.ContainsAny(name, "/?#%") {
			return
		}
		before := as.revision(t)
		req := httptest.NewRequest("PATCH", "/", strings.NewReader(body))
		req.URL.Path = appliances + "/" + name
		req.URL.RawQuery = query
		req.Header.Set("Content-Type", "application/apply-patch+yaml")
		rec := httptest.NewRecorder()
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		as.h.ServeHTTP(rec, req.WithContext(rctx))
		if rec.Code >= 500 {
			t.Fatalf("%s?%s %q: %d %s", name, query, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 300 {
			if after := as.revision(t); after != before {
				t.Fatalf("rejected with %d but wrote (%d -> %d): %s", rec.Code, before, after, rec.Body.String())
			}
			return
		}
		obj, err := as.st.Get(ctx, "ns", name)
		if err != nil {
			t.Fatalf("accepted apply left no object: %v", err)
		}
		for _, e := range obj.ManagedFields {
			if e.FieldsType != "FieldsV1" || (e.Operation != "Apply" && e.Operation != "Update") || e.FieldsV1 == nil {
				t.Fatalf("bad entry %+v", e)
			}
		}
		if _, err := store.ParseRevision(obj.ResourceVersion); err != nil {
			t.Fatal(err)
		}
	})
}
