package embedetcd_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/watch"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStartServeClose(t *testing.T) {
	ctx := ctxT(t)
	s, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("data dir: %v", err)
	}
	if eps := s.Endpoints(); len(eps) != 1 || eps[0][:17] != "http://127.0.0.1:" {
		t.Fatalf("Endpoints = %v, want one loopback URL", eps)
	}
	if _, err := s.Client().Put(ctx, "/k", "v"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	kv, err := s.Backend().Get(ctx, "/k")
	if err != nil || string(kv.Value) != "v" {
		t.Fatalf("Backend().Get = %+v, %v", kv, err)
	}
	c, err := s.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := c.Get(ctx, "/k"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("NewClient Get = %v, %v", resp, err)
	}
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("temporary data dir survives Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestGivenDirSurvivesRestart(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	s, err := embedetcd.Start(ctx, embedetcd.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client().Put(ctx, "/persist", "yes"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = embedetcd.Start(ctx, embedetcd.Config{Dir: dir})
	if err != nil {
		t.Fatalf("restart on %s: %v", dir, err)
	}
	defer s.Close()
	resp, err := s.Client().Get(ctx, "/persist")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "yes" {
		t.Fatalf("after restart: %v, %v", resp, err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []embedetcd.Config{
		{LogLevel: "loud"},
		{WatchProgressNotifyInterval: -time.Second},
		{TickMs: 100, ElectionMs: 200},
		{Name: "a=b"},
	}
	for _, c := range bad {
		if err := c.Validate(); !errors.Is(err, embedetcd.ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig", c, err)
		}
		if _, err := embedetcd.Start(context.Background(), c); !errors.Is(err, embedetcd.ErrInvalidConfig) {
			t.Errorf("Start(%+v) = %v, want ErrInvalidConfig", c, err)
		}
	}
	if err := (embedetcd.Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	if _, err := embedetcd.StartCluster(context.Background(), 0, embedetcd.Config{}); !errors.Is(err, embedetcd.ErrInvalidConfig) {
		t.Errorf("StartCluster(0) = %v", err)
	}
}

type item struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
}

// TestProgressBookmarks: with WatchProgressNotifyInterval, an idle typed
// watch that asked for bookmarks receives them, at the current revision.
func TestProgressBookmarks(t *testing.T) {
	ctx := ctxT(t)
	s, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: true, WatchProgressNotifyInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := store.New[*item](s.Backend(), store.Resource{Name: "items", APIVersion: "v1", Kind: "Item"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := items.Create(ctx, &item{ObjectMeta: store.ObjectMeta{Name: "a"}}); err != nil {
		t.Fatal(err)
	}
	rev, err := s.Backend().Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := items.Watch(ctx, "", store.WatchOptions{AfterRevision: rev, Bookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		if ev.Type != watch.Bookmark || ev.Revision < rev {
			t.Fatalf("event %v at %d, want a bookmark at >= %d", ev.Type, ev.Revision, rev)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no bookmark within 30s")
	}
}

func Example() {
	ctx := context.Background()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	if _, err := srv.Client().Put(ctx, "/hello", "world"); err != nil {
		panic(err)
	}
	resp, err := srv.Client().Get(ctx, "/hello", clientv3.WithSerializable())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s=%s\n", resp.Kvs[0].Key, resp.Kvs[0].Value)
	// Output: /hello=world
}

// TestLoggerReceivesEtcdLogs: with Config.Logger, etcd logs through the
// caller's slog logger.
func TestLoggerReceivesEtcdLogs(t *testing.T) {
	var buf syncBuffer
	lg := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := embedetcd.Start(ctxT(t), embedetcd.Config{UnsafeNoFsync: true, LogLevel: "info", Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "logger=etcd") || !strings.Contains(out, "level=INFO") {
		t.Fatalf("no etcd info logs through the slog logger; got %.300q", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
