package apiserver

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
)

// TestWatchBookmarks: etcd's progress notifications reach a watch that
// allows bookmarks as BOOKMARK events of the watched kind, telling a pod
// watcher how far the store has moved while other resources changed.
func TestWatchBookmarks(t *testing.T) {
	e := etcdtest.Start(t, func(c *embedetcd.Config) { c.WatchProgressNotifyInterval = 200 * time.Millisecond })
	s := startServer(t, func(c *Config) { c.Backend = e.Backend() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion="+
		itoa(s.revision(t)), nil)
	resp, err := s.httpClient(t, true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rev := s.revision(t)
	if code, body := s.raw(t, s.httpClient(t, true), "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"elsewhere"}}`); code != 201 {
		t.Fatalf("create namespace: %d %s", code, body)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"type":"BOOKMARK"`) {
			if !strings.Contains(line, `"kind":"Pod"`) || !strings.Contains(line, `"resourceVersion":"`) {
				t.Fatalf("bookmark: %s", line)
			}
			if strings.Contains(line, `"resourceVersion":"`+itoa(rev)+`"`) {
				continue // not yet past the namespace write
			}
			return
		}
	}
	t.Fatalf("no bookmark before the stream ended: %v", sc.Err())
}

func itoa(n int64) string {
	b := []byte{}
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
