// Command web is the demo's workload: an HTTP server on :8080 whose /
// answers with its pod's name and its version (the POD_NAME and VERSION
// environment variables), so that different backends are visible, and
// whose /healthz answers "ok" for the readiness probe.
//
// Run as `web fetch URL N` it is the demo's client instead: it GETs URL N
// times, each on a new connection (so a Service's proxy picks a backend
// each time), prints each answer (or error), prints "fetch done" and then
// blocks, so that its pod stays Running while its log is read.
//
// With DATA_DIR set, the server first writes its pod's name to
// DATA_DIR/owner unless the file exists (a StatefulSet pod's volume keeps
// the first owner). Run as `web cat FILE` it prints FILE, or exits 1
// when it cannot (the demo's kubectl exec).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "fetch" {
		fetch(os.Args[2], os.Args[3])
		// Block until stopped (a bare select{} is a deadlock to the Go
		// runtime, which would end the pod).
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "cat" {
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	}
	if dir := os.Getenv("DATA_DIR"); dir != "" {
		owner := filepath.Join(dir, "owner")
		if _, err := os.Stat(owner); err != nil {
			if err := os.WriteFile(owner, []byte(os.Getenv("POD_NAME")+"\n"), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s (%s)\n", os.Getenv("POD_NAME"), os.Getenv("VERSION"))
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// fetch GETs url n times on fresh connections and prints the answers.
func fetch(url, count string) {
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Println("fetch: bad count:", err)
		return
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < n; i++ {
		resp, err := hc.Get(url)
		if err != nil {
			fmt.Println("fetch error:", err)
			time.Sleep(200 * time.Millisecond) // the name or rules may not be there yet
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(string(body))
	}
	fmt.Println("fetch done")
}
