package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gopkg.in/natefinch/lumberjack.v2"
)

// AuditLevel is how much of a request the audit log records, as in
// Kubernetes' audit policy (audit.k8s.io/v1 Level).
type AuditLevel string

// Audit levels. Kubernetes' RequestResponse level (response bodies) is not
// offered.
const (
	// AuditLevelNone records nothing.
	AuditLevelNone AuditLevel = "None"
	// AuditLevelMetadata records who did what to which object and the
	// answer's code, but no body.
	AuditLevelMetadata AuditLevel = "Metadata"
	// AuditLevelRequest adds the request body (requestObject), except for
	// secrets, configmaps, token requests and token reviews, which stay at
	// Metadata as Kubernetes' audit policy advice recommends: their bodies
	// hold credentials.
	AuditLevelRequest AuditLevel = "Request"
)

// AuditHeader is the response header carrying a request's auditID; a
// request that sends one keeps it, as in Kubernetes.
const AuditHeader = "Audit-Id"

// maxAuditBody caps the request body an audit event records; a longer one
// is left out of the event (the metadata is still recorded).
const maxAuditBody = 256 << 10

// metadataOnly are the resources whose bodies are never logged: they carry
// secrets in requests (Secret data, ConfigMaps by convention, the token of
// a TokenReview) or are credentials themselves.
var metadataOnly = map[string]bool{"secrets": true, "configmaps": true, "tokenreviews": true, "serviceaccounts/token": true}

// AuditEvent is one line of the audit log: the fields of Kubernetes'
// audit.k8s.io/v1 Event that this server fills.
type AuditEvent struct {
	Kind                     string            `json:"kind"`
	APIVersion               string            `json:"apiVersion"`
	Level                    AuditLevel        `json:"level"`
	AuditID                  string            `json:"auditID"`
	Stage                    string            `json:"stage"`
	RequestURI               string            `json:"requestURI"`
	Verb                     string            `json:"verb"`
	User                     AuditUser         `json:"user"`
	ImpersonatedUser         *AuditUser        `json:"impersonatedUser,omitempty"`
	SourceIPs                []string          `json:"sourceIPs,omitempty"`
	UserAgent                string            `json:"userAgent,omitempty"`
	ObjectRef                *AuditObjectRef   `json:"objectRef,omitempty"`
	ResponseStatus           AuditStatus       `json:"responseStatus"`
	RequestObject            json.RawMessage   `json:"requestObject,omitempty"`
	RequestReceivedTimestamp string            `json:"requestReceivedTimestamp"`
	StageTimestamp           string            `json:"stageTimestamp"`
	Annotations              map[string]string `json:"annotations,omitempty"`
}

// AuditUser is authentication.k8s.io/v1 UserInfo.
type AuditUser struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// AuditObjectRef names the object of a resource request.
type AuditObjectRef struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// AuditStatus is the part of the answer's Status the event records.
type AuditStatus struct {
	Metadata struct{} `json:"metadata"`
	Code     int      `json:"code"`
}

// auditMicroTime is Kubernetes' MicroTime format.
const auditMicroTime = "2006-01-02T15:04:05.000000Z07:00"

// auditLog writes events as JSON lines. Writes are serialized, so lines
// never interleave.
type auditLog struct {
	level  AuditLevel
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	now    func() time.Time
	log    *slog.Logger
	failed atomic.Bool
}

// newAuditLog opens the audit log Config asks for; nil when there is none.
// Path "-" is standard output; otherwise the file (and its directory) is
// created and rotated by lumberjack.
func newAuditLog(c Config) (*auditLog, error) {
	if c.AuditLogPath == "" || c.AuditLevel == AuditLevelNone {
		return nil, nil
	}
	l := &auditLog{level: c.AuditLevel, now: c.Clock.Now, log: c.Logger}
	if l.level == "" {
		l.level = AuditLevelMetadata
	}
	if c.AuditLogPath == "-" {
		l.w = os.Stdout
		return l, nil
	}
	if err := os.MkdirAll(filepath.Dir(c.AuditLogPath), 0o700); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", c.AuditLogPath, err)
	}
	f, err := os.OpenFile(c.AuditLogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", c.AuditLogPath, err)
	}
	f.Close()
	lj := &lumberjack.Logger{Filename: c.AuditLogPath, MaxSize: c.AuditLogMaxSize, MaxAge: c.AuditLogMaxAge,
		MaxBackups: c.AuditLogMaxBackups, Compress: c.AuditLogCompress}
	l.w, l.closer = lj, lj
	return l, nil
}

// write appends ev as one line. A write error is logged once; requests
// are still served (Kubernetes' blocking mode would fail them instead).
func (l *auditLog) write(ev *AuditEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		l.log.Error("audit: encoding an event", "auditID", ev.AuditID, "err", err)
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	_, err = l.w.Write(b)
	l.mu.Unlock()
	if err != nil && l.failed.CompareAndSwap(false, true) {
		l.log.Error("audit: writing the audit log failed; later failures are not logged", "err", err)
	}
}

// Close closes the file.
func (l *auditLog) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

type auditEventKey struct{}

// auditRecorder is what the inner filters fill in while a request runs.
type auditRecorder struct {
	mu           sync.Mutex
	user         *User
	impersonated *User
}

// withAudit records one event per request once the answer is complete
// (stage ResponseComplete; a watch's when it ends). It sits outside
// authentication, so a 401 is recorded too, without a user.
func withAudit(next http.Handler, l *auditLog) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received := l.now()
		id := r.Header.Get(AuditHeader)
		if id == "" {
			id = uuid.NewString()
		}
		w.Header().Set(AuditHeader, id)
		rec := &auditRecorder{}
		level := l.level
		info, isResource := infoOf(r)
		res := info.Resource
		if info.Subresource != "" {
			res += "/" + info.Subresource
		}
		if level == AuditLevelRequest && (metadataOnly[res] || metadataOnly[info.Resource]) {
			level = AuditLevelMetadata
		}
		var body *cappedBuffer
		if level == AuditLevelRequest && r.Body != nil && r.Body != http.NoBody {
			body = &cappedBuffer{max: maxAuditBody}
			r.Body = teeBody{Reader: io.TeeReader(r.Body, body), Closer: r.Body}
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), auditEventKey{}, rec)))

		ev := &AuditEvent{Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: level, AuditID: id, Stage: "ResponseComplete",
			RequestURI: r.RequestURI, UserAgent: r.UserAgent(), SourceIPs: sourceIPs(r),
			RequestReceivedTimestamp: received.UTC().Format(auditMicroTime), StageTimestamp: l.now().UTC().Format(auditMicroTime)}
		if ev.RequestURI == "" {
			ev.RequestURI = r.URL.RequestURI()
		}
		ev.ResponseStatus.Code = sw.code()
		if isResource {
			ev.Verb = info.Verb
			group, version := groupOf(info.APIVersion), info.APIVersion
			if i := strings.IndexByte(version, '/'); i >= 0 {
				version = version[i+1:]
			}
			ev.ObjectRef = &AuditObjectRef{Resource: info.Resource, Namespace: info.Namespace, Name: info.Name,
				APIGroup: group, APIVersion: version, Subresource: info.Subresource}
		} else {
			ev.Verb = strings.ToLower(r.Method)
		}
		rec.mu.Lock()
		if rec.user != nil {
			ev.User = auditUserOf(rec.user)
		}
		if rec.impersonated != nil {
			u := auditUserOf(rec.impersonated)
			ev.ImpersonatedUser = &u
		}
		rec.mu.Unlock()
		if body != nil && !body.over && json.Valid(body.Bytes()) {
			ev.RequestObject = json.RawMessage(bytes.TrimSpace(body.Bytes()))
		}
		l.write(ev)
	})
}

// withAuditUser notes the authenticated caller and, once impersonation
// has run, the user it acts as, for withAudit.
func withAuditUser(next http.Handler, impersonated bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, _ := r.Context().Value(auditEventKey{}).(*auditRecorder); rec != nil {
			u := UserFrom(r.Context())
			rec.mu.Lock()
			if !impersonated {
				rec.user = u
			} else if ImpersonatorFrom(r.Context()) != nil {
				rec.impersonated = u
			}
			rec.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func auditUserOf(u *User) AuditUser {
	return AuditUser{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
}

// sourceIPs is X-Forwarded-For's addresses, then the peer's, as Kubernetes
// lists them.
func sourceIPs(r *http.Request) []string {
	var ips []string
	for _, f := range strings.Split(r.Header.Get("X-Forwarded-For"), ",") {
		if f = strings.TrimSpace(f); net.ParseIP(f) != nil {
			ips = append(ips, f)
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ips = append(ips, host)
	} else if r.RemoteAddr != "" {
		ips = append(ips, r.RemoteAddr)
	}
	return ips
}

// statusWriter remembers the status code written; it passes Flush on, so
// watches still stream.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// cappedBuffer keeps up to max bytes and notes whether more came.
type cappedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if !b.over && b.Len()+len(p) <= b.max {
		b.Buffer.Write(p)
	} else {
		b.over = true
		b.Reset()
	}
	return len(p), nil
}

type teeBody struct {
	io.Reader
	io.Closer
}
