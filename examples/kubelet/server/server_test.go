package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/kubelet/server"
	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/fake"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
	"github.com/setpoint-dev/setpoint/watch"
)

// host is a node running one pod, "web", with container "app" on the
// fake runtime.
type host struct {
	rt  *fake.Runtime
	pod *api.Pod
	h   server.PodHandles
}

func (h *host) NodeName() string         { return "node-1" }
func (h *host) Runtime() runtime.Runtime { return h.rt }
func (h *host) Healthy() error           { return nil }
func (h *host) Pods() []*api.Pod         { return []*api.Pod{h.pod} }
func (h *host) Pod(_ context.Context, ns, name string) (*api.Pod, server.PodHandles, error) {
	if ns != h.pod.Namespace || name != h.pod.Name {
		return nil, server.PodHandles{}, server.ErrPodNotFound
	}
	return h.pod, h.h, nil
}

// testServer runs a server for a fake-runtime pod; it returns the base
// URL and clients with the apiserver's certificate, another CN's, none.
type testServer struct {
	base             string
	apiserver, admin *tls.Config
	anonymous        *tls.Config
	appID, sandboxID string
	rt               *fake.Runtime
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	ctx := context.Background()
	rt := fake.New(fake.WithProgram(runtimetest.TestBinary, runtimetest.FakeTestBinary), fake.WithNodeIP("10.0.0.1"))
	if _, err := rt.ImportImage(ctx, bytes.NewReader(runtimetest.TestImage(t))); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "web", Namespace: "default", UID: "uid-web"})
	if err != nil {
		t.Fatal(err)
	}
	app := runtimetest.MustStart(ctx, t, rt, sb, runtime.ContainerConfig{Name: "app", Image: runtimetest.TestImageName,
		Args: runtimetest.Script("count", "3", "wait")})
	t.Cleanup(func() { rt.RemoveSandbox(context.Background(), sb) })
	pod := &api.Pod{}
	pod.Namespace, pod.Name, pod.UID = "default", "web", "uid-web"
	pod.Spec.Containers = []api.Container{{Name: "app"}}
	h := &host{rt: rt, pod: pod, h: server.PodHandles{SandboxID: sb, Containers: map[string]string{"app": app}, Previous: map[string]string{}}}

	pki, err := apiserver.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Config{Host: h, Listen: "127.0.0.1:0", ClientCAPEM: pki.CACert})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	clientTLS := func(cn string) *tls.Config {
		certPEM, keyPEM, err := pki.IssueClientCert(cn)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}
	}
	return &testServer{base: "https://" + s.Addr(), apiserver: clientTLS(server.DefaultClientName), admin: clientTLS("admin"),
		anonymous: &tls.Config{InsecureSkipVerify: true}, appID: app, sandboxID: sb, rt: rt}
}

// get GETs path with tc and returns the status code and body.
func (ts *testServer) get(t testing.TB, tc *tls.Config, path string) (int, string) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: tc}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(ts.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// session is a client of the channel protocol.
type session struct {
	ws     *websocket.Conn
	out    map[byte]*bytes.Buffer
	status *watch.Status
}

// dial opens an exec or attach session.
func (ts *testServer) dial(t testing.TB, path string, q url.Values, protocol string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: ts.apiserver, Subprotocols: []string{protocol}, HandshakeTimeout: 10 * time.Second}
	return d.Dial(strings.Replace(ts.base, "https", "wss", 1)+path+"?"+q.Encode(), nil)
}

// run reads a session to its end.
func run(t testing.TB, ws *websocket.Conn) *session {
	t.Helper()
	s := &session{ws: ws, out: map[byte]*bytes.Buffer{1: {}, 2: {}, 3: {}}}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			break
		}
		if len(msg) > 0 && s.out[msg[0]] != nil {
			s.out[msg[0]].Write(msg[1:])
		}
	}
	ws.Close()
	if s.out[3].Len() > 0 {
		s.status = &watch.Status{}
		if err := json.Unmarshal(s.out[3].Bytes(), s.status); err != nil {
			t.Fatalf("error channel %q: %v", s.out[3], err)
		}
	}
	return s
}

func execQuery(tty, stdin bool, cmd ...string) url.Values {
	q := url.Values{"command": append([]string{runtimetest.TestBinary}, cmd...), "stdout": {"true"}}
	if !tty {
		q.Set("stderr", "true")
	}
	if tty {
		q.Set("tty", "true")
	}
	if stdin {
		q.Set("stdin", "true")
	}
	return q
}

// TestExecTTYResize: v5 exec on a terminal sees the size the client sends
// on the resize channel, and input closed by the close signal; the error
// channel says Success.
func TestExecTTYResize(t *testing.T) {
	ts := startServer(t)
	ws, _, err := ts.dial(t, "/exec/default/web/app", execQuery(true, true, "tty", "winsize", "100", "40", "stdin"), server.ProtocolV5)
	if err != nil {
		t.Fatal(err)
	}
	if ws.Subprotocol() != server.ProtocolV5 {
		t.Fatalf("negotiated %q", ws.Subprotocol())
	}
	ws.WriteMessage(websocket.BinaryMessage, append([]byte{4}, `{"Width":100,"Height":40}`...))
	ws.WriteMessage(websocket.BinaryMessage, append([]byte{0}, "line\n"...))
	ws.WriteMessage(websocket.BinaryMessage, []byte{255, 0})
	s := run(t, ws)
	out := s.out[1].String()
	if !strings.Contains(out, "tty") || !strings.Contains(out, "winsize 100x40") || !strings.Contains(out, "stdin: EOF") {
		t.Errorf("stdout %q: want tty, the size and the end of input", out)
	}
	if s.status == nil || s.status.Status != watch.StatusSuccess {
		t.Errorf("status %+v, want Success", s.status)
	}
}

// TestExecExitCodeV4: on v4 a non-zero exit is a Failure with reason
// NonZeroExitCode and the code as the ExitCode cause; stdout and stderr
// arrive on their channels.
func TestExecExitCodeV4(t *testing.T) {
	ts := startServer(t)
	ws, _, err := ts.dial(t, "/exec/default/web/app", execQuery(false, false, "print", "out", "eprint", "err", "exit", "7"), server.ProtocolV4)
	if err != nil {
		t.Fatal(err)
	}
	s := run(t, ws)
	if s.out[1].String() != "out\n" || s.out[2].String() != "err\n" {
		t.Errorf("stdout %q stderr %q", s.out[1], s.out[2])
	}
	st := s.status
	if st == nil || st.Status != watch.StatusFailure || st.Reason != "NonZeroExitCode" || st.Details == nil ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != "7" {
		t.Errorf("status %+v, want NonZeroExitCode with ExitCode 7", st)
	}
}

// TestAuthentication: no client certificate is 401, another name's is
// 403, the apiserver's gets in.
func TestAuthentication(t *testing.T) {
	ts := startServer(t)
	for _, c := range []struct {
		name string
		tc   *tls.Config
		want int
	}{{"anonymous", ts.anonymous, 401}, {"admin", ts.admin, 403}, {"apiserver", ts.apiserver, 200}} {
		if code, body := ts.get(t, c.tc, "/pods"); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	if code, _ := ts.get(t, ts.apiserver, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
}

// TestBadInput: Kubernetes' errors before any stream starts, and the
// container keeps running untouched.
func TestBadInput(t *testing.T) {
	ts := startServer(t)
	for _, c := range []struct {
		path string
		code int
		msg  string
	}{
		{"/containerLogs/default/web/app?tailLines=-1", 400, "tailLines: Invalid value: -1"},
		{"/containerLogs/default/web/app?limitBytes=0", 400, "limitBytes: Invalid value: 0"},
		{"/containerLogs/default/web/app?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", 400, "at most one of `sinceTime` or `sinceSeconds`"},
		{"/containerLogs/default/web/app?follow=maybe", 400, `follow="maybe" is not a boolean`},
		{"/containerLogs/default/nosuch/app", 404, `pod "nosuch" does not exist`},
		{"/containerLogs/default/web/nosuch", 404, `container "nosuch" not found in pod "web"`},
		{"/containerLogs/default/web/app?previous=true", 400, `previous terminated container "app" in pod "web" not found`},
		{"/exec/default/web/app?stdout=true", 400, "you must specify at least 1 command"},
		{"/exec/default/web/app?command=x", 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"/exec/default/web/app?command=x&stdout=true", 400, "need a WebSocket upgrade"},
		{"/portForward/default/web", 400, "SPDY/3.1"},
	} {
		code, body := ts.get(t, ts.apiserver, c.path)
		var st watch.Status
		_ = json.Unmarshal([]byte(body), &st)
		if code != c.code || int(st.Code) != c.code || !strings.Contains(st.Message, c.msg) {
			t.Errorf("GET %s: %d %s; want %d with %q", c.path, code, body, c.code, c.msg)
		}
	}
	if _, resp, err := ts.dial(t, "/exec/default/web/app", execQuery(false, false, "print", "x"), "v1.channel.k8s.io"); err == nil || resp == nil || resp.StatusCode != 400 {
		t.Errorf("exec with an unsupported subprotocol: %v %v, want 400", resp, err)
	}
	st, err := ts.rt.ContainerStatus(context.Background(), ts.appID)
	if err != nil || st.State != runtime.ContainerRunning {
		t.Errorf("the container after bad requests: %+v %v", st, err)
	}
	if code, body := ts.get(t, ts.apiserver, "/containerLogs/default/web/app?tailLines=2"); code != 200 || body != "2\n3\n" {
		t.Errorf("logs tailLines=2: %d %q", code, body)
	}
}

// TestConcurrentExecs: many sessions at once each get exactly their own
// output and exit code.
func TestConcurrentExecs(t *testing.T) {
	ts := startServer(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, _, err := ts.dial(t, "/exec/default/web/app", execQuery(false, false, "print", fmt.Sprint("session-", i), "exit", fmt.Sprint(i%5)), server.ProtocolV5)
			if err != nil {
				errs <- err
				return
			}
			s := run(t, ws)
			want := fmt.Sprintf("session-%d\n", i)
			if got := s.out[1].String(); got != want {
				errs <- fmt.Errorf("session %d: stdout %q, want %q", i, got, want)
			}
			code := "0"
			if s.status != nil && s.status.Details != nil && len(s.status.Details.Causes) > 0 {
				code = s.status.Details.Causes[0].Message
			}
			if s.status == nil || code != fmt.Sprint(i%5) {
				errs <- fmt.Errorf("session %d: status %+v, want exit %d", i, s.status, i%5)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
