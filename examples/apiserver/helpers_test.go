package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
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

// watchEvent is one event of a watch response.
type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Code int `json:"code"`
	} `json:"object"`
}

// openWatch starts a watch request as hc and returns a function that reads
// its next event; the test's cleanup ends the request.
func (s *testServer) openWatch(t *testing.T, hc *http.Client, path string) (next func() watchEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != 200 {
		data, _ := io.ReadAll(resp.Body)
		t.Fatalf("watch %s: %d %s", path, resp.StatusCode, data)
	}
	dec := json.NewDecoder(resp.Body)
	return func() watchEvent {
		t.Helper()
		var ev watchEvent
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("watch %s: %v", path, err)
		}
		return ev
	}
}

// objMeta is the part of any object a test reads back: its metadata.
type objMeta struct {
	store.ObjectMeta `json:"metadata"`
}
