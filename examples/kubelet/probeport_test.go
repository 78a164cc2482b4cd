package kubelet

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/runtime/fake"
)

// forwardRecord is forwardTo that also records the ports asked for.
type forwardRecord struct {
	*fake.Runtime
	addr  string
	mu    sync.Mutex
	ports []uint16
}

func (f *forwardRecord) PortForward(ctx context.Context, _ string, port uint16) (net.Conn, error) {
	f.mu.Lock()
	f.ports = append(f.ports, port)
	f.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, "tcp", f.addr)
}

// take returns the ports asked for since the last take.
func (f *forwardRecord) take() []uint16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.ports
	f.ports = nil
	return p
}

// TestProbePortsAndHTTPS: httpGet and tcpSocket probes and httpGet hooks
// resolve a named port from the container's ports (an unknown name fails
// naming it, and dials nothing); scheme HTTPS speaks TLS to a server whose
// certificate no one could verify, and plain HTTP to that server fails.
func TestProbePortsAndHTTPS(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	rt := &forwardRecord{Runtime: fakeRuntime(t), addr: srv.Listener.Addr().String()}
	k, err := New(Config{Client: c.cs, Runtime: rt, NodeName: "node-1", RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctn := &api.Container{Name: "main", Ports: []api.ContainerPort{{Name: "metrics", ContainerPort: 9090}, {Name: "https", ContainerPort: 8443}}}
	httpsGet := func(port api.IntOrString, path string) *api.Probe {
		return &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: port, Path: path, Scheme: api.URISchemeHTTPS}}}
	}
	named := api.IntOrString{IsString: true, StrVal: "https"}
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		probe   *api.Probe
		wantErr string // "" passes
		port    uint16 // 0: nothing dialled
	}{
		{"https on a named port", httpsGet(named, "/ok"), "", 8443},
		{"https, a failing status", httpsGet(named, "/bad"), "statuscode: 500", 8443},
		{"https on a number", httpsGet(api.IntOrString{IntVal: 8443}, "/"), "", 8443},
		{"a digit string is the number", httpsGet(api.IntOrString{IsString: true, StrVal: "7000"}, "/"), "", 7000},
		{"an unknown port name", httpsGet(api.IntOrString{IsString: true, StrVal: "nope"}, "/"), `port "nope" not found`, 0},
		{"plain http to a TLS server", &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: named, Path: "/ok"}}}, "statuscode: 400", 8443},
		{"tcpSocket on a named port", &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.IntOrString{IsString: true, StrVal: "metrics"}}}}, "", 9090},
		{"tcpSocket, an unknown name", &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.IntOrString{IsString: true, StrVal: "grpc"}}}}, `port "grpc" not found`, 0},
	} {
		err := k.probeOnce(ctx, tc.probe, 5*time.Second, ctn, "c", "sb")
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.wantErr)
		}
		got := rt.take()
		if tc.port == 0 && len(got) != 0 || tc.port != 0 && (len(got) != 1 || got[0] != tc.port) {
			t.Errorf("%s: dialled ports %v, want %d", tc.name, got, tc.port)
		}
	}

	// A postStart or preStop httpGet hook resolves its port the same way.
	hook := &api.LifecycleHandler{HTTPGet: &api.HTTPGetAction{Port: named, Path: "/", Scheme: api.URISchemeHTTPS}}
	if err := k.runHook(ctx, hook, ctn, "c", "sb"); err != nil {
		t.Errorf("hook on a named https port: %v", err)
	}
	if got := rt.take(); len(got) != 1 || got[0] != 8443 {
		t.Errorf("hook dialled %v, want 8443", got)
	}
	hook.HTTPGet.Port = api.IntOrString{IsString: true, StrVal: "missing"}
	if err := k.runHook(ctx, hook, ctn, "c", "sb"); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("hook on an unknown port name: %v", err)
	}
}
