package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

// MaxLine is the most text one entry holds; longer lines are split.
const MaxLine = 16 << 10

// Tags of an entry.
const (
	TagFull    = 'F'
	TagPartial = 'P'
)

// Entry is one parsed log entry.
type Entry struct {
	// Time is when the text was written.
	Time time.Time
	// Stream is the stream the text came from.
	Stream runtime.LogStream
	// Partial is set for a part of a line (tag P): no newline follows Text.
	Partial bool
	// Text is the entry's text, without the newline.
	Text []byte
}

// ErrMalformed is wrapped by Parse's errors.
var ErrMalformed = errors.New("logfile: malformed entry")

// Parse parses one entry, with or without its final newline. Text aliases
// line.
func Parse(line []byte) (Entry, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Entry{}, fmt.Errorf("%w: no stream in %q", ErrMalformed, clip(line))
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return Entry{}, fmt.Errorf("%w: bad time %q", ErrMalformed, clip(ts))
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Entry{}, fmt.Errorf("%w: no tag in %q", ErrMalformed, clip(line))
	}
	e := Entry{Time: t, Stream: runtime.LogStream(stream)}
	if e.Stream != runtime.Stdout && e.Stream != runtime.Stderr {
		return Entry{}, fmt.Errorf("%w: bad stream %q", ErrMalformed, clip(stream))
	}
	tag, text, _ := bytes.Cut(rest, []byte{' '})
	switch {
	case len(tag) == 1 && tag[0] == TagFull:
	case len(tag) == 1 && tag[0] == TagPartial:
		e.Partial = true
	default:
		return Entry{}, fmt.Errorf("%w: bad tag %q", ErrMalformed, clip(tag))
	}
	e.Text = text
	return e, nil
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// AppendEntry appends the entry for text (which must not hold a newline)
// to dst.
func AppendEntry(dst []byte, t time.Time, stream runtime.LogStream, partial bool, text []byte) []byte {
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, ' ')
	dst = append(dst, stream...)
	if partial {
		dst = append(dst, ' ', TagPartial, ' ')
	} else {
		dst = append(dst, ' ', TagFull, ' ')
	}
	dst = append(dst, text...)
	return append(dst, '\n')
}

// Writer writes the entries of a process's output streams to one
// destination, each entry in one Write, so that entries of the two streams
// never mix. It is safe for concurrent use; each stream's writer is meant
// for one goroutine at a time.
type Writer struct {
	mu      sync.Mutex
	dst     io.Writer
	now     func() time.Time
	pending [2][]byte // per stream: text waiting for its newline
	buf     []byte
	err     error
}

// NewWriter returns a Writer to dst taking entry times from now.
func NewWriter(dst io.Writer, now func() time.Time) *Writer {
	return &Writer{dst: dst, now: now}
}

func streamIndex(s runtime.LogStream) int {
	if s == runtime.Stderr {
		return 1
	}
	return 0
}

// Stream returns the writer of stream s: each line written to it becomes an
// entry.
func (w *Writer) Stream(s runtime.LogStream) io.Writer { return streamWriter{w, s} }

type streamWriter struct {
	w *Writer
	s runtime.LogStream
}

// Write logs the complete lines of p and keeps the rest for later.
func (sw streamWriter) Write(p []byte) (int, error) {
	return len(p), sw.w.write(sw.s, p)
}

func (w *Writer) write(s runtime.LogStream, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	i := streamIndex(s)
	t := w.now()
	w.buf = w.buf[:0]
	pend := append(w.pending[i], p...)
	for {
		nl := bytes.IndexByte(pend, '\n')
		if nl < 0 || nl > MaxLine {
			if len(pend) < MaxLine {
				break
			}
			w.buf = AppendEntry(w.buf, t, s, true, pend[:MaxLine])
			pend = pend[MaxLine:]
			continue
		}
		w.buf = AppendEntry(w.buf, t, s, false, pend[:nl])
		pend = pend[nl+1:]
	}
	w.pending[i] = append(w.pending[i][:0], pend...)
	return w.flushBuf()
}

func (w *Writer) flushBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.dst.Write(w.buf); err != nil {
		w.err = fmt.Errorf("logfile: write: %w", err)
		return w.err
	}
	return nil
}

// Flush writes the text still waiting for a newline: as complete lines when
// the streams have ended (final), else as partial entries that the next
// writer of the log continues.
func (w *Writer) Flush(final bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	t := w.now()
	w.buf = w.buf[:0]
	for i, s := range []runtime.LogStream{runtime.Stdout, runtime.Stderr} {
		if len(w.pending[i]) > 0 {
			w.buf = AppendEntry(w.buf, t, s, !final, w.pending[i])
			w.pending[i] = w.pending[i][:0]
		}
	}
	return w.flushBuf()
}
