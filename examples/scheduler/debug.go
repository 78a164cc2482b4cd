package scheduler

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// attempts keeps each pending pod's last attempt, by namespace/name.
type attempts struct {
	mu sync.Mutex
	m  map[string]*Attempt
}

func newAttempts() *attempts { return &attempts{m: map[string]*Attempt{}} }

func (a *attempts) record(key string, at *Attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[key] = at
}

func (a *attempts) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, key)
}

func (a *attempts) get(key string) (*Attempt, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.m[key]
	return at, ok
}

// LastAttempt returns the record of the last scheduling attempt of a pod
// that still exists, and whether there is one.
func (s *Scheduler) LastAttempt(namespace, name string) (*Attempt, bool) {
	return s.debug.get(namespace + "/" + name)
}

// Handler serves /healthz (200 while Run runs), /readyz (200 once the
// caches synced) and /debug/pods/<namespace>/<name> (the pod's last
// attempt as JSON: each node's verdict with the plugin and reasons, and
// each plugin's weighted score). Serve /metrics beside it from the
// Registerer's gatherer.
func (s *Scheduler) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "caches not synced", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/debug/pods/", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/debug/pods/"), "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			http.Error(w, "want /debug/pods/<namespace>/<name>", http.StatusBadRequest)
			return
		}
		at, ok := s.LastAttempt(parts[0], parts[1])
		if !ok {
			http.Error(w, "no scheduling attempt recorded for pod "+parts[0]+"/"+parts[1], http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(at)
	})
	return mux
}
