package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/watch"
)

// The WebSocket subprotocols of exec and attach, newest first. Each binary
// message starts with its channel byte.
const (
	ProtocolV5 = "v5.channel.k8s.io"
	ProtocolV4 = "v4.channel.k8s.io"
)

// The channels of the remote command protocol.
const (
	chanStdin  = 0
	chanStdout = 1
	chanStderr = 2
	chanError  = 3
	chanResize = 4
	// chanClose (v5): the payload names a channel the client closed.
	chanClose = 255
)

var streamProtocols = []string{ProtocolV5, ProtocolV4}

// streamRequest is the parsed query of exec and attach.
type streamRequest struct {
	cmd                        []string
	stdin, stdout, stderr, tty bool
}

func parseStreamRequest(r *http.Request, exec bool) (streamRequest, *watch.Status) {
	q := r.URL.Query()
	var sr streamRequest
	for _, f := range []struct {
		name string
		v    *bool
	}{{"stdin", &sr.stdin}, {"stdout", &sr.stdout}, {"stderr", &sr.stderr}, {"tty", &sr.tty}} {
		if v := q.Get(f.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return sr, badRequest("%s=%q is not a boolean", f.name, v)
			}
			*f.v = b
		}
	}
	if exec {
		sr.cmd = q["command"]
		if len(sr.cmd) == 0 || sr.cmd[0] == "" {
			return sr, badRequest("you must specify at least 1 command")
		}
	}
	if !sr.stdin && !sr.stdout && !sr.stderr {
		return sr, badRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	if sr.tty {
		sr.stderr = false // a terminal merges stderr into stdout
	}
	return sr, nil
}

// channelConn is one WebSocket session of the channel protocol.
type channelConn struct {
	ws    *websocket.Conn
	v5    bool
	wmu   sync.Mutex
	stdin *io.PipeReader
	win   *io.PipeWriter
	// resize receives the terminal sizes the client sends.
	resize chan runtime.TermSize
	// gone is closed when the client's side ends (read error or close).
	gone chan struct{}
}

var upgrader = websocket.Upgrader{
	Subprotocols:    streamProtocols,
	CheckOrigin:     func(*http.Request) bool { return true },
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
}

// upgrade switches r to a channel session, or answers 400 when the client
// speaks none of the protocols.
func upgrade(w http.ResponseWriter, r *http.Request) (*channelConn, bool) {
	if !websocket.IsWebSocketUpgrade(r) {
		writeStatus(w, badRequest("exec, attach and port-forward need a WebSocket upgrade with one of the subprotocols %v", streamProtocols))
		return nil, false
	}
	if !slices.ContainsFunc(websocket.Subprotocols(r), func(p string) bool { return slices.Contains(streamProtocols, p) }) {
		writeStatus(w, badRequest("none of the WebSocket subprotocols %v is supported; want one of %v", websocket.Subprotocols(r), streamProtocols))
		return nil, false
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, false // the upgrader answered
	}
	pr, pw := io.Pipe()
	c := &channelConn{ws: ws, v5: ws.Subprotocol() == ProtocolV5, stdin: pr, win: pw,
		resize: make(chan runtime.TermSize, 4), gone: make(chan struct{})}
	go c.readLoop()
	return c, true
}

// readLoop demultiplexes the client's messages until the connection ends.
func (c *channelConn) readLoop() {
	defer close(c.gone)
	defer c.win.Close()
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.BinaryMessage || len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case chanStdin:
			if _, err := c.win.Write(msg[1:]); err != nil {
				continue // the process no longer reads: drop
			}
		case chanResize:
			var sz struct{ Width, Height uint16 }
			if json.Unmarshal(msg[1:], &sz) == nil {
				select {
				case c.resize <- runtime.TermSize{Width: sz.Width, Height: sz.Height}:
				default: // the process has not taken the last one: drop
				}
			}
		case chanClose:
			if c.v5 && len(msg) > 1 && msg[1] == chanStdin {
				c.win.Close()
			}
		}
	}
}

// channelWriter writes to one channel.
type channelWriter struct {
	c  *channelConn
	ch byte
}

func (w channelWriter) Write(p []byte) (int, error) {
	if err := w.c.write(w.ch, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *channelConn) write(ch byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	msg := make([]byte, 1+len(p))
	msg[0] = ch
	copy(msg[1:], p)
	return c.ws.WriteMessage(websocket.BinaryMessage, msg)
}

// finish writes the outcome on the error channel and closes the session.
func (c *channelConn) finish(st *watch.Status) {
	b, _ := json.Marshal(st)
	_ = c.write(chanError, b)
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.wmu.Unlock()
	c.stdin.Close()
	c.ws.Close()
	<-c.gone
}

// exitStatus is the Status of a finished command, as Kubernetes writes it.
func exitStatus(code int, cmd []string) *watch.Status {
	if code == 0 {
		return &watch.Status{Status: watch.StatusSuccess}
	}
	return &watch.Status{Status: watch.StatusFailure, Reason: "NonZeroExitCode",
		Message: fmt.Sprintf("command terminated with non-zero exit code: error executing command %q, exit code %d", cmd, code),
		Details: &watch.StatusDetails{Causes: []watch.StatusCause{{Type: "ExitCode", Message: strconv.Itoa(code)}}}}
}

// failureStatus is the Status of a command that could not run.
func failureStatus(err error) *watch.Status {
	return &watch.Status{Status: watch.StatusFailure, Reason: watch.StatusReasonInternalError, Code: http.StatusInternalServerError,
		Message: "error executing command in container: " + err.Error()}
}

// streamTarget resolves the running container of an exec or attach.
func (s *Server) streamTarget(r *http.Request) (target, *watch.Status) {
	container := r.PathValue("container")
	name := r.PathValue("pod")
	t, st := s.resolve(r, r.PathValue("namespace"), name, container)
	if st != nil {
		return t, st
	}
	if t.id == "" {
		return t, badRequest("container %q in pod %q is waiting to start: %s", container, name, waitingReason(t.pod, container))
	}
	cs, err := s.cfg.Host.Runtime().ContainerStatus(r.Context(), t.id)
	if err != nil {
		return t, runtimeStatus(err, container, name)
	}
	if cs.State != runtime.ContainerRunning {
		return t, badRequest("container %q in pod %q is not running (%s)", container, name, cs.State)
	}
	return t, nil
}

// serveExec serves /exec/<namespace>/<pod>/[<uid>/]<container>.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	sr, st := parseStreamRequest(r, true)
	if st == nil {
		var t target
		if t, st = s.streamTarget(r); st == nil {
			s.runStream(w, r, sr, func(ctx context.Context, c *channelConn, opts streamOpts) *watch.Status {
				code, err := s.cfg.Host.Runtime().Exec(ctx, t.id, runtime.ExecOptions{Cmd: sr.cmd, Stdin: opts.stdin,
					Stdout: opts.stdout, Stderr: opts.stderr, TTY: sr.tty, Resize: opts.resize})
				if err != nil {
					return failureStatus(err)
				}
				return exitStatus(code, sr.cmd)
			})
			return
		}
	}
	writeStatus(w, st)
}

// serveAttach serves /attach/<namespace>/<pod>/[<uid>/]<container>.
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	sr, st := parseStreamRequest(r, false)
	if st == nil {
		var t target
		if t, st = s.streamTarget(r); st == nil {
			s.runStream(w, r, sr, func(ctx context.Context, c *channelConn, opts streamOpts) *watch.Status {
				err := s.cfg.Host.Runtime().Attach(ctx, t.id, runtime.AttachOptions{Stdin: opts.stdin,
					Stdout: opts.stdout, Stderr: opts.stderr, Resize: opts.resize})
				if err != nil && !errors.Is(err, context.Canceled) {
					return failureStatus(err)
				}
				return &watch.Status{Status: watch.StatusSuccess}
			})
			return
		}
	}
	writeStatus(w, st)
}

// streamOpts are the streams a session hands the runtime (nil: not asked).
type streamOpts struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	resize         <-chan runtime.TermSize
}

// runStream upgrades, runs fn with the requested streams, and writes its
// Status on the error channel. The session's context ends when the
// client goes away.
func (s *Server) runStream(w http.ResponseWriter, r *http.Request, sr streamRequest,
	fn func(ctx context.Context, c *channelConn, opts streamOpts) *watch.Status) {
	c, ok := upgrade(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-c.gone:
			cancel()
		case <-ctx.Done():
		}
	}()
	var opts streamOpts
	if sr.stdin {
		opts.stdin = c.stdin
	}
	if sr.stdout {
		opts.stdout = channelWriter{c, chanStdout}
	}
	if sr.stderr {
		opts.stderr = channelWriter{c, chanStderr}
	}
	if sr.tty {
		opts.resize = c.resize
	}
	c.finish(fn(ctx, c, opts))
}
