package containerd

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/pkg/cio"
)

// shimLog creates the (empty) log file at path and returns the IO of a task
// whose shim appends the process's stdout and stderr to it.
//
// It does not use cio.LogFile: given that file:// URI, the runc shim shares
// one descriptor of the file between its stdout and stderr copy loops, and
// the stdout loop closes that descriptor when stdout ends, so whatever the
// stderr loop has not yet written is lost (containerd 1.6 up to at least
// 2.4, cmd/containerd-shim-runc-v2/process/io.go, copyPipes). Given plain
// paths instead, the shim opens a path that is not a FIFO as a file
// (O_WRONLY|O_APPEND), once per stream unless both paths are the same
// string. Naming the one file twice, spelt differently, gives each loop its
// own descriptor, which it alone closes.
func shimLog(path string) (cio.Creator, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("log path %q is not absolute", path)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	dir, base := filepath.Split(filepath.Clean(path))
	cfg := cio.Config{Stdout: dir + base, Stderr: dir + "./" + base}
	return func(string) (cio.IO, error) { return shimIO{cfg}, nil }, nil
}

// shimIO is a task's IO that the shim handles alone: there is nothing to
// copy, wait for or close on this side.
type shimIO struct{ cfg cio.Config }

var _ cio.IO = shimIO{}

// Config returns the paths the shim writes to.
func (s shimIO) Config() cio.Config { return s.cfg }

// Cancel does nothing.
func (shimIO) Cancel() {}

// Wait returns at once.
func (shimIO) Wait() {}

// Close does nothing.
func (shimIO) Close() error { return nil }
