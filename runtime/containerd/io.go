package containerd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"
	"golang.org/x/sys/unix"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/fanout"
	"github.com/setpoint-dev/setpoint/runtime/internal/logfile"
)

// Labels recording how a container's standard streams are set up.
const (
	labelTTY         = internalPrefix + "tty"          // "true": stdout is a terminal, no stderr
	labelStdin       = internalPrefix + "stdin"        // "true", or "once" for StdinOnce
	labelStdinClosed = internalPrefix + "stdin-closed" // "true" once StdinOnce closed it
)

// errBusy: another runtime instance copies the container's output.
var errBusy = errors.New("another runtime instance copies this container's output")

// ioDir holds a container's FIFOs and the lock of their copier.
func (r *Runtime) ioDir(id string) string {
	return filepath.Join(r.cfg.StateDir, "io", r.cfg.Namespace, id)
}

// fifoPaths are the FIFOs the shim connects a container's process to.
type fifoPaths struct {
	stdin, stdout, stderr string // stdin and stderr may be empty
}

func (r *Runtime) fifos(id string, labels map[string]string) fifoPaths {
	dir := r.ioDir(id)
	p := fifoPaths{stdout: filepath.Join(dir, "stdout")}
	if labels[labelTTY] != "true" {
		p.stderr = filepath.Join(dir, "stderr")
	}
	if labels[labelStdin] != "" {
		p.stdin = filepath.Join(dir, "stdin")
	}
	return p
}

// copier copies a container's output from its FIFOs to its log file, in the
// CRI format, and to the clients attached to it. One copier per container
// exists among all the runtime instances of a node, arbitrated by a lock
// file, so that the output is copied exactly once. Output written while no
// runtime runs waits in the FIFOs (64 KiB, then the process blocks) for the
// next one. (The container's stdin needs no keeper: the shim holds a writer
// of its FIFO until CloseIO, so the process reads end of file only then.)
type copier struct {
	id    string
	lock  *os.File
	log   *os.File
	w     *logfile.Writer
	fan   [2]*fanout.Stream // stdout, stderr
	tty   bool
	ended sync.WaitGroup // the stream copy loops

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever the log grows
	streams []*os.File    // FIFO read ends, closed to stop
	stopped bool          // Close stopped it: the log may grow again later
	done    chan struct{} // closed when the copy has ended and the log is flushed
}

// openCopier takes the container's lock and opens its output FIFOs for
// reading.
func (r *Runtime) openCopier(id string, labels map[string]string) (*copier, error) {
	dir := r.ioDir(id)
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("container %s: open its output lock: %w", id, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, fmt.Errorf("container %s: lock its output: %w", id, err)
	}
	logPath := labels[labelLogPath]
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("container %s: open its log: %w", id, err)
	}
	c := &copier{
		id: id, lock: lock, log: logf, fan: [2]*fanout.Stream{fanout.New(), fanout.New()},
		tty:     labels[labelTTY] == "true",
		changed: make(chan struct{}), done: make(chan struct{}),
	}
	c.w = logfile.NewWriter(logf, func() time.Time { return time.Now().UTC() })
	p := r.fifos(id, labels)
	for _, path := range []string{p.stdout, p.stderr} {
		if path == "" {
			continue
		}
		// Non-blocking: an open for reading does not wait for a writer
		// (Go's poller makes the reads block instead).
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			c.abort()
			return nil, fmt.Errorf("container %s: open its output: %w", id, err)
		}
		c.streams = append(c.streams, f)
	}
	return c, nil
}

// start starts copying.
func (c *copier) start() {
	names := []runtime.LogStream{runtime.Stdout, runtime.Stderr}
	for i, f := range c.streams {
		c.ended.Add(1)
		go c.copy(f, names[i])
	}
	go func() {
		c.ended.Wait()
		c.mu.Lock()
		stopped := c.stopped
		c.mu.Unlock()
		c.w.Flush(!stopped)
		c.log.Close()
		c.fan[0].Close()
		c.fan[1].Close()
		c.lock.Close() // releases the lock
		close(c.done)
	}()
}

func (c *copier) copy(f *os.File, s runtime.LogStream) {
	defer c.ended.Done()
	defer f.Close()
	fan := c.fan[0]
	if s == runtime.Stderr {
		fan = c.fan[1]
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			c.mu.Lock()
			c.w.Stream(s).Write(buf[:n])
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			fan.Write(buf[:n])
		}
		if err != nil {
			return // io.EOF: every writer is gone; os.ErrClosed: stopped
		}
	}
}

// abort undoes openCopier before start.
func (c *copier) abort() {
	for _, f := range c.streams {
		f.Close()
	}
	c.log.Close()
	c.lock.Close()
}

// stop ends the copy without waiting for the output's end (the runtime is
// closing): the next runtime instance resumes it.
func (c *copier) stop() {
	c.mu.Lock()
	c.stopped = true
	streams := c.streams
	c.mu.Unlock()
	for _, f := range streams {
		f.Close()
	}
	<-c.done
}

// wait waits up to d for the output to end; it reports whether it did.
func (c *copier) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// watch returns what a log follower waits on.
func (c *copier) watch() (changed, done <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed, c.done
}

// final reports whether the copy ended with the output (not stopped).
func (c *copier) final() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.stopped
}

// copierFor returns the container's copier in this runtime, starting one
// (after a restart of the runtime) when no other instance copies. It fails
// with errBusy when another one does.
func (r *Runtime) copierFor(id string, labels map[string]string) (*copier, error) {
	r.copiersMu.Lock()
	defer r.copiersMu.Unlock()
	if c := r.copiers[id]; c != nil {
		return c, nil
	}
	if r.closed {
		return nil, fmt.Errorf("%w: container %s: the runtime is closed", runtime.ErrUnavailable, id)
	}
	if _, err := os.Stat(r.ioDir(id)); err != nil {
		return nil, fmt.Errorf("container %s: its output FIFOs: %w", id, err)
	}
	c, err := r.openCopier(id, labels)
	if err != nil {
		return nil, err
	}
	c.start()
	r.copiers[id] = c
	return c, nil
}

// dropCopier stops and forgets the container's copier.
func (r *Runtime) dropCopier(id string) {
	r.copiersMu.Lock()
	c := r.copiers[id]
	delete(r.copiers, id)
	r.copiersMu.Unlock()
	if c != nil {
		c.stop()
	}
}

// makeFIFOs creates the container's FIFOs and its copier before its task
// exists. Placeholder writers keep the outputs from reading end of file
// until the shim opens them: release closes them once the task exists;
// cleanup removes everything on failure.
func (r *Runtime) makeFIFOs(id string, labels map[string]string) (cfg cio.Config, c *copier, release, cleanup func(), err error) {
	dir := r.ioDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cio.Config{}, nil, nil, nil, fmt.Errorf("container %s: %w", id, err)
	}
	removeDir := func() { os.RemoveAll(dir) }
	p := r.fifos(id, labels)
	for _, path := range []string{p.stdin, p.stdout, p.stderr} {
		if path == "" {
			continue
		}
		if err := unix.Mkfifo(path, 0o600); err != nil {
			removeDir()
			return cio.Config{}, nil, nil, nil, fmt.Errorf("container %s: make FIFO %s: %w", id, path, err)
		}
	}
	if c, err = r.openCopier(id, labels); err != nil {
		removeDir()
		return cio.Config{}, nil, nil, nil, err
	}
	var holders []*os.File
	release = func() {
		for _, f := range holders {
			f.Close()
		}
		holders = nil
	}
	cleanup = func() {
		release()
		c.abort()
		removeDir()
	}
	for _, path := range []string{p.stdout, p.stderr} {
		if path == "" {
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			cleanup()
			return cio.Config{}, nil, nil, nil, fmt.Errorf("container %s: hold its output open: %w", id, err)
		}
		holders = append(holders, f)
	}
	return cio.Config{Stdin: p.stdin, Stdout: p.stdout, Stderr: p.stderr, Terminal: labels[labelTTY] == "true"}, c, release, cleanup, nil
}

// fifoIO is a task's IO that the shim handles: the FIFOs are this runtime's
// (see copier), there is nothing to copy, wait for or close here.
type fifoIO struct{ cfg cio.Config }

var _ cio.IO = fifoIO{}

// Config returns the FIFOs' paths.
func (s fifoIO) Config() cio.Config { return s.cfg }

// Cancel does nothing.
func (fifoIO) Cancel() {}

// Wait returns at once.
func (fifoIO) Wait() {}

// Close does nothing.
func (fifoIO) Close() error { return nil }
