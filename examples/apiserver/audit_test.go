package apiserver

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// readAudit returns the audit log's events, in order.
func readAudit(t *testing.T, path string) []AuditEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestAuditLog(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	os.WriteFile(tokens, []byte("t-eve,eve,7\n"), 0o600)
	logPath := filepath.Join(dir, "audit", "audit.log")
	s := startServer(t, func(c *Config) {
		c.TokenFile, c.AuditLogPath, c.AuditLevel = tokens, logPath, AuditLevelRequest
	})
	admin, anon := s.httpClient(t, true), s.httpClient(t, false)
	if code, body := s.raw(t, admin, "POST", "/api/v1/namespaces/default/pods", "", podBody); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := s.raw(t, admin, "GET", "/api/v1/namespaces/default/pods/p", "", ""); code != 200 {
		t.Fatalf("get: %d %s", code, body)
	}
	if code, body := s.raw(t, anon, "DELETE", "/api/v1/namespaces/default/pods/p", "t-eve", ""); code != 403 {
		t.Fatalf("eve delete: %d %s, want 403", code, body)
	}
	if code, body := s.raw(t, anon, "GET", "/api/v1/namespaces", "", ""); code != 401 {
		t.Fatalf("no credentials: %d %s, want 401", code, body)
	}
	const secret = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"password":"hunter2-in-the-clear"}}`
	if code, body := s.rawType(t, admin, "POST", "/api/v1/namespaces/default/secrets", "application/json", secret, AuditHeader, "my-audit-id"); code != 201 {
		t.Fatalf("create secret: %d %s", code, body)
	}
	if err := s.stop(); err != nil { // handlers have returned: every event is written
		t.Fatal(err)
	}
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "hunter2") {
		t.Fatalf("the audit log holds a secret's data:\n%s", raw)
	}
	evs := readAudit(t, logPath)
	find := func(verb, uri string) AuditEvent {
		t.Helper()
		for _, ev := range evs {
			if ev.Verb == verb && ev.RequestURI == uri {
				return ev
			}
		}
		t.Fatalf("no audit event %s %s in %d events", verb, uri, len(evs))
		return AuditEvent{}
	}
	create := find("create", "/api/v1/namespaces/default/pods")
	if create.Kind != "Event" || create.APIVersion != "audit.k8s.io/v1" || create.Stage != "ResponseComplete" || create.Level != AuditLevelRequest {
		t.Errorf("create event header: %+v", create)
	}
	if create.User.Username != "admin" || create.ResponseStatus.Code != 201 || create.ObjectRef == nil ||
		*create.ObjectRef != (AuditObjectRef{Resource: "pods", Namespace: "default", APIVersion: "v1"}) {
		t.Errorf("create event: user %+v code %d ref %+v", create.User, create.ResponseStatus.Code, create.ObjectRef)
	}
	var obj struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := json.Unmarshal(create.RequestObject, &obj); err != nil || obj.Metadata.Name != "p" {
		t.Errorf("create requestObject %s: %v", create.RequestObject, err)
	}
	if len(create.SourceIPs) != 1 || create.SourceIPs[0] != "127.0.0.1" || create.UserAgent == "" || create.AuditID == "" {
		t.Errorf("create event: sourceIPs %v userAgent %q auditID %q", create.SourceIPs, create.UserAgent, create.AuditID)
	}
	recv, err1 := time.Parse(time.RFC3339Nano, create.RequestReceivedTimestamp)
	done, err2 := time.Parse(time.RFC3339Nano, create.StageTimestamp)
	if err1 != nil || err2 != nil || done.Before(recv) {
		t.Errorf("timestamps %q %q: %v %v", create.RequestReceivedTimestamp, create.StageTimestamp, err1, err2)
	}
	get := find("get", "/api/v1/namespaces/default/pods/p")
	if get.ResponseStatus.Code != 200 || get.ObjectRef.Name != "p" || get.RequestObject != nil {
		t.Errorf("get event: %+v", get)
	}
	denied := find("delete", "/api/v1/namespaces/default/pods/p")
	if denied.ResponseStatus.Code != 403 || denied.User.Username != "eve" {
		t.Errorf("403 event: code %d user %+v", denied.ResponseStatus.Code, denied.User)
	}
	unauth := find("list", "/api/v1/namespaces")
	if unauth.ResponseStatus.Code != 401 || unauth.User.Username != "" {
		t.Errorf("401 event: code %d user %+v", unauth.ResponseStatus.Code, unauth.User)
	}
	sec := find("create", "/api/v1/namespaces/default/secrets")
	if sec.Level != AuditLevelMetadata || sec.RequestObject != nil || sec.ResponseStatus.Code != 201 || sec.AuditID != "my-audit-id" {
		t.Errorf("secret event: level %s code %d id %q body %s", sec.Level, sec.ResponseStatus.Code, sec.AuditID, sec.RequestObject)
	}
}

func TestAuditLogRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := newAuditLog(Config{AuditLogPath: path, AuditLogMaxSize: 1, AuditLogMaxBackups: 2,
		Clock: clockwork.NewRealClock(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ev := &AuditEvent{Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: AuditLevelMetadata, UserAgent: strings.Repeat("x", 1000)}
	// Just over 1 MiB of events: the size limit is reached once.
	for i := 0; i < 1100; i++ {
		l.write(ev)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.log"))
	if len(files) != 1 {
		t.Fatalf("rotated files %v, want one", files)
	}
	for _, f := range append(files, path) {
		fi, err := os.Stat(f)
		if err != nil || fi.Size() > 1<<20 {
			t.Errorf("%s: %v, size over the 1 MiB limit", f, err)
		}
	}
	if got := len(readAudit(t, path)) + len(readAudit(t, files[0])); got != 1100 {
		t.Errorf("%d events across the files, want 1100 (none lost at rotation)", got)
	}
}

func TestAuditConfigInvalid(t *testing.T) {
	for _, c := range []Config{
		{DataDir: "d", AuditLevel: "Everything"},
		{DataDir: "d", AuditLogMaxSize: -1},
	} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Audit") {
			t.Errorf("%+v: %v, want an error naming the audit field", c, err)
		}
	}
}
