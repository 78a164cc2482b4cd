// Command web is the demo's workload: an HTTP server on :8080 whose /
// answers with its pod's name and its version (the POD_NAME and VERSION
// environment variables), so that different backends are visible, and
// whose /healthz answers "ok" for the readiness probe.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s (%s)\n", os.Getenv("POD_NAME"), os.Getenv("VERSION"))
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
