// Package logfile reads container log files: the last lines of a file, and a
// reader that follows a file as it grows until told to stop.
package logfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// TailOffset returns the offset in r (of the given size) where the last n
// lines start. A final line without a newline counts as a line. n <= 0 means
// the whole file (offset 0).
func TailOffset(r io.ReaderAt, size int64, n int) (int64, error) {
	if n <= 0 || size <= 0 {
		return 0, nil
	}
	const chunk = 8192
	buf := make([]byte, chunk)
	end := size
	// A trailing newline ends the last line; it does not start a new one.
	seen := 0
	first := true
	for end > 0 {
		start := max(end-chunk, 0)
		b := buf[:end-start]
		if _, err := r.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if first {
			first = false
			if b[len(b)-1] == '\n' {
				b = b[:len(b)-1]
			}
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				seen++
				if seen == n {
					return start + int64(i) + 1, nil
				}
			}
		}
		end = start
	}
	return 0, nil
}

// Tail returns the last n lines of data (all of it when n <= 0).
func Tail(data []byte, n int) []byte {
	off, _ := TailOffset(bytes.NewReader(data), int64(len(data)), n)
	return data[off:]
}

// Follower reads a file from an offset and, at its end, waits for more until
// Done is closed (then it reads what is left and returns io.EOF) or ctx ends.
type Follower struct {
	ctx  context.Context
	f    *os.File
	done <-chan struct{}
	poll time.Duration
	last bool // done seen: the next EOF is final
}

// NewFollower returns a reader of f from its current offset. done closing
// means no more data will be written. Close closes f.
func NewFollower(ctx context.Context, f *os.File, done <-chan struct{}, poll time.Duration) *Follower {
	return &Follower{ctx: ctx, f: f, done: done, poll: poll}
}

// Read implements io.Reader.
func (r *Follower) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
			return n, err
		}
		if r.last {
			return 0, io.EOF
		}
		select {
		case <-r.done:
			r.last = true
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		case <-time.After(r.poll):
		}
	}
}

// Close closes the file.
func (r *Follower) Close() error { return r.f.Close() }
