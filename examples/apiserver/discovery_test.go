package apiserver

import (
	"encoding/json"
	"strings"
	"testing"
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
