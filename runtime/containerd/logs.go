package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
	"github.com/setpoint-dev/setpoint/runtime/internal/logfile"
)

// followPoll is how often a log follower looks again when another runtime
// instance copies the container's output.
const followPoll = 50 * time.Millisecond

// Logs reads the container's log file (CRI format), which this runtime's
// copier appends to; a follower wakes on each append and ends once the
// container's output has ended.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions) (_ io.ReadCloser, err error) {
	defer r.observe("logs", time.Now(), &err)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	rec, err := r.record(r.ctx(ctx), id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(rec.Labels[labelLogPath])
	if err != nil {
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	src := &fileSource{r: r, f: f, id: id, labels: rec.Labels}
	lr, err := logfile.NewReader(ctx, src, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("logs of container %s: %w", id, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{lr, f}, nil
}

// fileSource is a container's log file as a logfile.Source.
type fileSource struct {
	r      *Runtime
	f      *os.File
	id     string
	labels map[string]string
}

// ReadAt reads the file.
func (s *fileSource) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }

// Size returns the file's size.
func (s *fileSource) Size() (int64, error) {
	st, err := s.f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// Wait waits for the log to grow past size, or for the container's output
// to end.
func (s *fileSource) Wait(ctx context.Context, size int64) (bool, error) {
	for {
		c, err := s.r.copierFor(s.id, s.labels)
		if err != nil && !errors.Is(err, errBusy) {
			if errors.Is(err, os.ErrNotExist) {
				return true, nil // removed: nothing more will come
			}
			return false, err
		}
		var changed, done <-chan struct{}
		if c != nil {
			changed, done = c.watch()
		}
		if n, err := s.Size(); err != nil || n > size {
			return false, err
		}
		if c == nil { // another runtime instance copies: look again later
			t := time.NewTimer(followPoll)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return false, ctx.Err()
			}
		}
		select {
		case <-changed:
			return false, nil
		case <-done:
			if !c.final() {
				return false, fmt.Errorf("%w: logs of container %s: the runtime closed", runtime.ErrUnavailable, s.id)
			}
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
