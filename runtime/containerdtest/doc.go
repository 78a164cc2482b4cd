// Package containerdtest starts a private containerd daemon for tests and
// benchmarks, like net/http/httptest does for servers: the containerd
// binary from PATH with a generated configuration whose root, state
// directory and socket live in a fresh temporary directory, the overlayfs
// snapshotter, and the CRI plugin disabled for a fast start. Start waits
// until the daemon answers; Stop deletes every task and container, stops
// the daemon, kills any shim left, unmounts and removes the directory.
// Restart stops and starts the daemon on the same directories (running
// containers survive, as with a real daemon restart).
//
// When containerd, runc or the CNI plugins are missing, Start fails (tests
// never skip) with an error giving the exact install command, InstallCommand
// (scripts/install-deps.sh runs it). The harness needs root.
package containerdtest
