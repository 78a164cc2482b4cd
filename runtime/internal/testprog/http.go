package testprog

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// NotReadyFile is the file whose presence makes the http step's /readyz
// answer 503.
const NotReadyFile = "/tmp/not-ready"

// httpHandler answers: / with the host name, /healthz with ok, /readyz
// with 200 unless NotReadyFile exists (then 503), /code/N with status N.
func httpHandler(sys System) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		h, err := sys.Hostname()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, h)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := sys.ReadFile(NotReadyFile); !errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/code/", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/code/"))
		if err != nil || code < 100 || code > 999 {
			http.Error(w, "bad code", http.StatusBadRequest)
			return
		}
		w.WriteHeader(code)
		fmt.Fprintln(w, code)
	})
	return mux
}

func serveHTTP(l net.Listener, sys System) {
	srv := &http.Server{Handler: httpHandler(sys)}
	srv.Serve(l)
}
