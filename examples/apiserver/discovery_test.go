package apiserver

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"

	"github.com/setpoint-dev/setpoint/examples/api/apidiscovery"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestDiscoveryAndOpenAPI(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	for _, tc := range []struct{ path, want string }{
		{"/api", `"versions":["v1"]`},
		{"/apis", `"name":"apps"`},
		{"/apis", `"name":"coordination.k8s.io"`},
		{"/apis/apps", `"groupVersion":"apps/v1"`},
		{"/api/v1", `"name":"pods/status"`},
		{"/api/v1", `"name":"pods/binding"`},
		{"/apis/apps/v1", `"name":"deployments/scale"`},
		{"/version", `"minor":"32"`},
		{"/openapi/v3", `"api/v1"`},
		{"/openapi/v3/apis/apps/v1", `fieldValidation`},
		{"/openapi/v2", `x-kubernetes-group-version-kind`},
	} {
		code, body := s.raw(t, hc, "GET", tc.path, "", "")
		if code != 200 || !strings.Contains(body, tc.want) || !json.Valid([]byte(body)) {
			t.Errorf("GET %s: %d, want 200 JSON containing %s; got %.300s", tc.path, code, tc.want, body)
		}
	}
	for _, p := range []string{"/apis/nope", "/apis/nope/v1", "/api/v2", "/openapi/v3/apis/nope/v1", "/nothing"} {
		if code, body := s.raw(t, hc, "GET", p, "", ""); code != 404 || !strings.Contains(body, `"kind":"Status"`) {
			t.Errorf("GET %s: %d %s, want a 404 Status", p, code, body)
		}
	}
}

// get sends GET path with the given headers and returns the response and
// its body.
func get(t *testing.T, hc *http.Client, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func TestAggregatedDiscovery(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	const accept = "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," +
		"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.9,application/json;q=0.8"
	for _, tc := range []struct{ path, accept, ctype string }{
		{"/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"},
		{"/api", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"},
	} {
		resp, body := get(t, hc, s.URL()+tc.path, "Accept", tc.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype {
			t.Fatalf("GET %s: %d %q, want 200 %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.ctype)
		}
		var l apidiscovery.APIGroupDiscoveryList
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		if l.Kind != "APIGroupDiscoveryList" || len(l.Items) == 0 {
			t.Fatalf("GET %s: %s", tc.path, body)
		}
		for _, g := range l.Items {
			if len(g.Versions) == 0 {
				t.Errorf("group %q listed with no versions", g.Name)
			}
			for _, v := range g.Versions {
				if len(v.Resources) == 0 {
					t.Errorf("group %q version %q listed with no resources", g.Name, v.Version)
				}
			}
		}
		etag := resp.Header.Get("ETag")
		if resp, body := get(t, hc, s.URL()+tc.path, "Accept", tc.accept, "If-None-Match", etag); etag == "" || resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s If-None-Match %s: %d %q, want 304 and no body", tc.path, etag, resp.StatusCode, body)
		}
	}

	// Protobuf, preferred by client-go: the envelope around the list, with
	// deployments and their subresources under apps/v1.
	resp, body := get(t, hc, s.URL()+"/apis", "Accept", accept)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" {
		t.Fatalf("GET /apis: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	env, err := watch.ParseEnvelope(body)
	if err != nil || env.Kind != "APIGroupDiscoveryList" || env.APIVersion != "apidiscovery.k8s.io/v2" {
		t.Fatalf("envelope %+v, %v", env, err)
	}
	var l apidiscovery.APIGroupDiscoveryList
	if err := l.Unmarshal(env.Raw); err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, g := range l.Items {
		for _, v := range g.Versions {
			for _, r := range v.Resources {
				if g.Name == "apps" && v.Version == "v1" && r.Resource == "deployments" {
					for _, sr := range r.Subresources {
						subs = append(subs, sr.Subresource)
					}
					if r.Scope != apidiscovery.ScopeNamespace || r.ResponseKind == nil || r.ResponseKind.Kind != "Deployment" {
						t.Errorf("deployments: %+v", r)
					}
				}
			}
		}
	}
	if !slices.Contains(subs, "scale") || !slices.Contains(subs, "status") {
		t.Errorf("apps/v1 deployments subresources %v, want scale and status", subs)
	}

	// The legacy documents in protobuf; an aggregated form only JSON-less
	// clients cannot get is a 406.
	for _, p := range []string{"/api", "/apis", "/apis/apps", "/apis/apps/v1", "/api/v1"} {
		resp, body := get(t, hc, s.URL()+p, "Accept", "application/vnd.kubernetes.protobuf, application/json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != watch.MediaTypeProtobuf {
			t.Errorf("GET %s in protobuf: %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		} else if _, err := watch.ParseEnvelope(body); err != nil {
			t.Errorf("GET %s in protobuf: %v", p, err)
		}
	}
	if resp, body := get(t, hc, s.URL()+"/apis", "Accept", "application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList"); resp.StatusCode != http.StatusNotAcceptable || !strings.Contains(string(body), `"kind":"Status"`) {
		t.Errorf("GET /apis asking for v3 only: %d %s, want a 406 Status", resp.StatusCode, body)
	}
}

// TestOpenAPIV2Protobuf: /openapi/v2 in gnostic's protobuf, as kubectl
// asks for it, says what the JSON document says.
func TestOpenAPIV2Protobuf(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	resp, body := get(t, hc, s.URL()+"/openapi/v2", "Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" {
		t.Fatalf("GET /openapi/v2 in protobuf: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openapiv2.Document
	if err := proto.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, hc, s.URL()+"/openapi/v2", "Accept", "application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.5")
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi/v2 preferring JSON: %q", resp.Header.Get("Content-Type"))
	}
	var j struct {
		Swagger     string                     `json:"swagger"`
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != j.Swagger || doc.Definitions == nil || len(doc.Definitions.AdditionalProperties) != len(j.Definitions) || len(j.Definitions) == 0 {
		t.Fatalf("protobuf document: swagger %q, %d definitions; JSON: %q, %d", doc.Swagger, len(doc.Definitions.GetAdditionalProperties()), j.Swagger, len(j.Definitions))
	}
	found := false
	for _, p := range doc.Definitions.AdditionalProperties {
		for _, e := range p.GetValue().GetVendorExtension() {
			if e.Name == "x-kubernetes-group-version-kind" && strings.Contains(e.GetValue().GetYaml(), "Deployment") {
				found = true
			}
		}
	}
	if !found {
		t.Error("no definition carries the Deployment's x-kubernetes-group-version-kind")
	}
	if resp, body := get(t, hc, s.URL()+"/openapi/v2", "Accept", "text/html"); resp.StatusCode != http.StatusNotAcceptable || !strings.Contains(string(body), `"kind":"Status"`) {
		t.Errorf("GET /openapi/v2 as text/html: %d %s, want a 406 Status", resp.StatusCode, body)
	}
}

// TestOpenAPIV3Protobuf: a group version's OpenAPI v3 document in
// gnostic's protobuf says what its JSON document says.
func TestOpenAPIV3Protobuf(t *testing.T) {
	s := startServer(t)
	hc := s.httpClient(t, true)
	const pb = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	resp, body := get(t, hc, s.URL()+"/openapi/v3/apis/apps/v1", "Accept", pb)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != pb {
		t.Fatalf("GET /openapi/v3/apis/apps/v1 in protobuf: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openapiv3.Document
	if err := proto.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, hc, s.URL()+"/openapi/v3/apis/apps/v1")
	var j struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &j); err != nil {
		t.Fatal(err)
	}
	if doc.Openapi != j.OpenAPI || len(j.Components.Schemas) == 0 || len(doc.GetComponents().GetSchemas().GetAdditionalProperties()) != len(j.Components.Schemas) {
		t.Fatalf("protobuf: %q with %d schemas; JSON: %q with %d", doc.Openapi, len(doc.GetComponents().GetSchemas().GetAdditionalProperties()), j.OpenAPI, len(j.Components.Schemas))
	}
}
