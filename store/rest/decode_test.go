package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// doHeaders is do that also returns the response headers.
func (ts *testServer) doHeaders(t *testing.T, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header, b.String()
}

// TestFieldValidation: unknown and duplicate fields follow fieldValidation
// as in Kubernetes: Strict fails with 400 naming each field and writes
// nothing, Warn (the default) succeeds with one Warning header per field,
// Ignore succeeds silently; field names match case-sensitively.
func TestFieldValidation(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	body := `{"metadata":{"name":"NAME"},"spec":{"size":1,"colour":"red","Color":"blue"}}`
	rev := storeRevision(t, ts.st)
	code, _, out := ts.doHeaders(t, "POST", widgets+"?fieldValidation=Strict", strings.Replace(body, "NAME", "a", 1))
	if code != 400 || !strings.Contains(out, `Widget in version \"v1\" cannot be handled as a Widget: strict decoding error`) ||
		!strings.Contains(out, `unknown field \"spec.colour\"`) || !strings.Contains(out, `unknown field \"spec.Color\"`) {
		t.Fatalf("Strict: %d %s", code, out)
	}
	if got := storeRevision(t, ts.st); got != rev {
		t.Fatalf("a Strict failure wrote (revision %d -> %d)", rev, got)
	}
	code, hdr, out := ts.doHeaders(t, "POST", widgets, strings.Replace(body, "NAME", "b", 1))
	if code != 201 {
		t.Fatalf("Warn (default): %d %s", code, out)
	}
	warnings := hdr.Values("Warning")
	if len(warnings) != 2 || warnings[0] != `299 - "unknown field \"spec.colour\""` || warnings[1] != `299 - "unknown field \"spec.Color\""` {
		t.Fatalf("Warn: warnings %q", warnings)
	}
	w, err := ts.st.Get(ctx, "ns", "b")
	if err != nil || w.Spec.Color != "" || w.Spec.Size != 1 {
		t.Fatalf("Warn stored %+v %v: the unknown fields must be dropped, the case-mismatched key not matched", w, err)
	}
	code, hdr, out = ts.doHeaders(t, "POST", widgets+"?fieldValidation=Ignore", strings.Replace(body, "NAME", "c", 1))
	if code != 201 || len(hdr.Values("Warning")) != 0 {
		t.Fatalf("Ignore: %d %q %s", code, hdr.Values("Warning"), out)
	}
	code, _, out = ts.doHeaders(t, "POST", widgets+"?fieldValidation=Strict", `{"metadata":{"name":"d","name":"e"}}`)
	if code != 400 || !strings.Contains(out, `duplicate field \"metadata.name\"`) {
		t.Fatalf("Strict duplicate: %d %s", code, out)
	}
	code, _, out = ts.doHeaders(t, "POST", widgets+"?fieldValidation=strictly", `{"metadata":{"name":"f"}}`)
	if code != 400 || !strings.Contains(out, `invalid fieldValidation \"strictly\"`) {
		t.Fatalf("bad directive: %d %s", code, out)
	}
	// the same rules on update and patch
	code, _, out = ts.doHeaders(t, "PUT", widgets+"/b?fieldValidation=Strict", `{"metadata":{"name":"b"},"spec":{"sise":2}}`)
	if code != 400 || !strings.Contains(out, `unknown field \"spec.sise\"`) {
		t.Fatalf("Strict update: %d %s", code, out)
	}
	req, _ := http.NewRequest("PATCH", ts.srv.URL+widgets+"/b", strings.NewReader(`{"spec":{"sise":2}}`))
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Header.Values("Warning")) != 1 {
		t.Fatalf("patch with an unknown field: %d, warnings %q", resp.StatusCode, resp.Header.Values("Warning"))
	}
	if _, err := ts.st.Get(ctx, "ns", "d"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed create wrote: %v", err)
	}
}

// TestErrorWording: errors name the resource and object as Kubernetes
// does, never a storage key, and carry details.
func TestErrorWording(t *testing.T) {
	ts := newTestServer(t)
	code, st, _ := ts.do(t, "GET", widgets+"/nope", "", "")
	if code != 404 || st.Message != `widgets.test.setpoint.dev "nope" not found` || strings.Contains(st.Message, "/setpoint") ||
		st.Details == nil || st.Details.Name != "nope" || st.Details.Kind != "widgets" || st.Details.Group != "test.setpoint.dev" {
		t.Fatalf("not found: %d %+v %+v", code, st, st.Details)
	}
	if code, _, _ := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`); code != 201 {
		t.Fatal(code)
	}
	code, st, _ = ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`)
	if code != 409 || st.Reason != watch.StatusReasonAlreadyExists || st.Message != `widgets.test.setpoint.dev "a" already exists` || st.Details == nil || st.Details.Name != "a" {
		t.Fatalf("already exists: %d %+v", code, st)
	}
	// invalid, also when only generateName was given: the error names the
	// generated name, and a cause per field
	code, st, _ = ts.do(t, "POST", widgets, "application/json", `{"metadata":{"generateName":"gen-"},"spec":{"size":-1}}`)
	if code != 422 || !strings.HasPrefix(st.Message, `Widget.test.setpoint.dev "gen-`) || !strings.Contains(st.Message, `is invalid: spec.size: Invalid value: -1: must not be negative`) ||
		st.Details == nil || !strings.HasPrefix(st.Details.Name, "gen-") || len(st.Details.Name) != len("gen-")+5 || st.Details.Kind != "Widget" ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "FieldValueInvalid" || st.Details.Causes[0].Field != "spec.size" {
		t.Fatalf("invalid with generateName: %d %+v %+v", code, st, st.Details)
	}
	code, st, _ = ts.do(t, "PUT", widgets+"/a", "application/json", `{"metadata":{"name":"a","resourceVersion":"1"}}`)
	if code != 409 || !strings.HasPrefix(st.Message, `Operation cannot be fulfilled on widgets.test.setpoint.dev "a": the object has been modified`) || st.Details == nil || st.Details.Name != "a" {
		t.Fatalf("conflict: %d %+v", code, st)
	}
	code, st, _ = ts.do(t, "PUT", widgets+"/a", "application/json", `{"metadata":{"name":"a"},"spec":`)
	if code != 400 || st.Details == nil || st.Details.Name != "a" || st.Details.Kind != "Widget" {
		t.Fatalf("bad request: %d %+v", code, st)
	}
}

func TestFieldErrorBody(t *testing.T) {
	for _, tc := range []struct {
		fe        store.FieldError
		typ, body string
	}{
		{store.FieldError{Field: "f", Value: "Web", Reason: "Invalid value: must be lowercase"}, "FieldValueInvalid", `Invalid value: "Web": must be lowercase`},
		{store.FieldError{Field: "f", Value: "-1", Reason: "Invalid value: must be positive"}, "FieldValueInvalid", `Invalid value: -1: must be positive`},
		{store.FieldError{Field: "f", Reason: "Required value"}, "FieldValueRequired", `Required value`},
		{store.FieldError{Field: "f", Reason: "Required value: a name"}, "FieldValueRequired", `Required value: a name`},
		{store.FieldError{Field: "f", Value: "x", Reason: `Unsupported value: supported values: "a", "b"`}, "FieldValueNotSupported", `Unsupported value: "x": supported values: "a", "b"`},
		{store.FieldError{Field: "f", Value: "x", Reason: "Duplicate value"}, "FieldValueDuplicate", `Duplicate value: "x"`},
		{store.FieldError{Field: "f", Reason: "Forbidden: may not be set"}, "FieldValueForbidden", `Forbidden: may not be set`},
		{store.FieldError{Field: "f", Value: "v", Reason: "bad"}, "FieldValueInvalid", `Invalid value: "v": bad`},
	} {
		typ, body := fieldErrorBody(&tc.fe)
		if typ != tc.typ || body != tc.body {
			t.Errorf("%+v: %s %q, want %s %q", tc.fe, typ, body, tc.typ, tc.body)
		}
	}
}
