package apiserver

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawType sends one request with the given Content-Type (none for an
// empty ctype) as the client hc, and returns the status code and body.
func (s *testServer) rawType(t *testing.T, hc *http.Client, method, path, ctype, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}
