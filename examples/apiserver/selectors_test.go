package apiserver

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// names returns the sorted metadata.name of a list response's items.
func names(t *testing.T, body string) string {
	t.Helper()
	var l struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	var out []string
	for _, i := range l.Items {
		out = append(out, i.Metadata.Name)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestLabelAndFieldSelectorGrammar is issue 12 cases 5 and 6 (field-cases
// 07 and 15): the upstream selector grammars over HTTP and kubectl, on
// list, watch and deletecollection, and the /scale subresource's selector
// that the server itself writes.
func TestLabelAndFieldSelectorGrammar(t *testing.T) {
	requireKubectl(t)
	s := startServer(t)
	ctx := context.Background()
	admin := s.httpClient(t, true)
	pods := podClient(t, s)
	for _, p := range []*api.Pod{
		newPod("default", "a", map[string]string{"tier": "web", "rank": "5"}),
		newPod("default", "b", map[string]string{"tier": "", "rank": "1"}),
		newPod("default", "c", map[string]string{"other": "x"}),
	} {
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	list := func(query string) (int, string) {
		return s.rawType(t, admin, "GET", "/api/v1/namespaces/default/pods?"+query, "", "")
	}
	for sel, want := range map[string]string{
		"tier in (,web)":  "a,b",
		"tier in ()":      "b",
		"tier notin ()":   "a,c",
		"rank>2":          "a",
		"rank<2":          "b",
		"rank>0,tier":     "a,b",
		"tier in (web,)":  "a,b",
		"in=x":            "",
		"!tier":           "c",
		"tier=":           "b",
		"tier==web":       "a",
		"tier notin (,)":  "a,c",
		"tier in ( web )": "a",
	} {
		code, body := list("labelSelector=" + url.QueryEscape(sel))
		if code != 200 || names(t, body) != want {
			t.Errorf("labelSelector %q: %d %s, want %q", sel, code, body, want)
		}
	}
	for _, sel := range []string{"rank>x", "tier in (", "Bad Key=x", "a=bad value!", "rank>-1", ",a", "a,"} {
		if code, body := list("labelSelector=" + url.QueryEscape(sel)); code != 400 || !strings.Contains(body, "labelSelector") {
			t.Errorf("labelSelector %q: %d %s, want 400", sel, code, body)
		}
	}
	for sel, want := range map[string]string{
		"status.phase=Pending,":              "a,b,c",
		",metadata.name=a,":                  "a",
		"metadata.name!=a,,metadata.name!=b": "c",
	} {
		code, body := list("fieldSelector=" + url.QueryEscape(sel))
		if code != 200 || names(t, body) != want {
			t.Errorf("fieldSelector %q: %d %s, want %q", sel, code, body, want)
		}
	}
	// '!' in a value is a plain character; "\!" is not an escape upstream.
	if code, body := s.rawType(t, admin, "GET", "/api/v1/namespaces/default/events?fieldSelector="+url.QueryEscape("reason=Back!Off"), "", ""); code != 200 {
		t.Errorf("fieldSelector reason=Back!Off: %d %s, want 200", code, body)
	}
	if code, body := s.rawType(t, admin, "GET", "/api/v1/namespaces/default/events?fieldSelector="+url.QueryEscape(`reason=Back\!Off`), "", ""); code != 400 || !strings.Contains(body, "escape") {
		t.Errorf(`fieldSelector reason=Back\!Off: %d %s, want 400`, code, body)
	}
	// kubectl sends the same selectors.
	if out := s.kubectl(t, false, "get", "pods", "-l", "tier in (,web)", "-o", "name"); out != "pod/a\npod/b\n" {
		t.Errorf("kubectl -l 'tier in (,web)': %q", out)
	}
	if out := s.kubectl(t, false, "get", "pods", "-l", "rank>2", "-o", "name"); out != "pod/a\n" {
		t.Errorf("kubectl -l rank>2: %q", out)
	}
	if out := s.kubectl(t, false, "get", "pods", "--field-selector", "status.phase=Pending,", "-o", "name"); out != "pod/a\npod/b\npod/c\n" {
		t.Errorf("kubectl --field-selector 'status.phase=Pending,': %q", out)
	}

	// The /scale selector of a Deployment whose selector holds the empty
	// value is one the server accepts back.
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"sel"},"spec":{"replicas":1,
		"selector":{"matchExpressions":[{"key":"tier","operator":"In","values":["","web"]}]},
		"template":{"metadata":{"labels":{"tier":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}`
	if code, body := s.rawType(t, admin, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", dep); code != 201 {
		t.Fatalf("deployment: %d %s", code, body)
	}
	_, body := s.rawType(t, admin, "GET", "/apis/apps/v1/namespaces/default/deployments/sel/scale", "", "")
	var scale struct {
		Status struct {
			Selector string `json:"selector"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &scale); err != nil || scale.Status.Selector != "tier in (,web)" {
		t.Fatalf("scale: %s (%v), want status.selector %q", body, err, "tier in (,web)")
	}
	if code, body := list("labelSelector=" + url.QueryEscape(scale.Status.Selector)); code != 200 || names(t, body) != "a,b" {
		t.Errorf("the /scale selector: %d %s", code, body)
	}
	// A stored selector with an invalid key or value is 422, nothing stored.
	rev := s.revision(t)
	for _, expr := range []string{`{"key":"Bad Key","operator":"DoesNotExist"}`, `{"key":"tier","operator":"In","values":["bad value!"]}`} {
		bad := strings.Replace(dep, `{"key":"tier","operator":"In","values":["","web"]}`, expr, 1)
		bad = strings.Replace(bad, `"name":"sel"`, `"name":"bad"`, 1)
		if code, body := s.rawType(t, admin, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", bad); code != 422 || !strings.Contains(body, "spec.selector.matchExpressions[0]") {
			t.Errorf("selector %s: %d %s, want 422 naming the expression", expr, code, body)
		}
	}
	if got := s.revision(t); got != rev {
		t.Fatalf("invalid selectors were stored: revision %d -> %d", rev, got)
	}

	// Neighbours: watch and deletecollection take the same grammar.
	next := s.openWatch(t, admin, "/api/v1/namespaces/default/pods?watch=true&labelSelector="+url.QueryEscape("tier in ()"))
	if ev := next(); ev.Type != "ADDED" || ev.Object.Metadata.Name != "b" {
		t.Fatalf("watch with tier in (): %+v, want b", ev)
	}
	if _, err := pods.Create(ctx, newPod("default", "d", map[string]string{"tier": ""})); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Type != "ADDED" || ev.Object.Metadata.Name != "d" {
		t.Fatalf("watch with tier in (): %+v, want d (and not the others)", ev)
	}
	if code, body := list("watch=true&labelSelector=" + url.QueryEscape("rank>x")); code != 400 {
		t.Fatalf("watch with rank>x: %d %s, want 400", code, body)
	}
	if code, body := s.rawType(t, admin, "DELETE", "/api/v1/namespaces/default/pods?labelSelector="+url.QueryEscape("rank<2"), "", ""); code != 200 || names(t, body) != "b" {
		t.Fatalf("deletecollection rank<2: %d %s", code, body)
	}
	if _, body := list(""); names(t, body) != "a,c,d" {
		t.Fatalf("after deletecollection: %s", body)
	}
}
