package logfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

// Source is a log being read: its bytes so far, and a way to wait for more.
type Source interface {
	io.ReaderAt
	// Size returns how many bytes the log holds now.
	Size() (int64, error)
	// Wait blocks until the log may hold more than size bytes (it returns
	// false) or will not grow any more (true), or ctx ends.
	Wait(ctx context.Context, size int64) (final bool, err error)
}

// chunk is how much the reader asks its source for at a time.
const chunk = 32 << 10

// Reader returns the text of a log's entries chosen by runtime.LogOptions.
type Reader struct {
	ctx   context.Context
	src   Source
	opts  runtime.LogOptions
	off   int64  // offset in src of buf's start
	buf   []byte // bytes read from src, not yet parsed
	out   []byte // formatted output not yet returned
	left  int64  // bytes still allowed by LimitBytes (or -1)
	final bool   // the source said it will not grow
	end   int64  // without Follow: the source's size at open; reads stop there
	err   error
}

// NewReader returns a reader of src's entries. Without Follow it stops at
// the end of what src holds now; with Follow it waits for more (as long as
// ctx lasts) until src says it is final.
func NewReader(ctx context.Context, src Source, opts runtime.LogOptions) (*Reader, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{ctx: ctx, src: src, opts: opts, left: -1}
	if opts.LimitBytes > 0 {
		r.left = opts.LimitBytes
	}
	size, err := src.Size()
	if err != nil {
		return nil, err
	}
	r.end = size // a snapshot: what is written later is not read without Follow
	switch {
	case opts.Tail < 0:
		r.off = lastNewline(src, size)
	case opts.Tail > 0:
		if r.off, err = tailOffset(src, size, opts.Tail, opts.Stream); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// lastNewline returns the offset just past the last complete entry.
func lastNewline(src io.ReaderAt, size int64) int64 {
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		b := make([]byte, end-start)
		if n, err := src.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0
		} else {
			b = b[:n]
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1
		}
		end = start
	}
	return 0
}

// tailOffset returns where the entries of the last n lines (of stream, or
// of both when empty) start: just past the (n+1)th complete entry of those
// from the end.
func tailOffset(src io.ReaderAt, size int64, n int, stream runtime.LogStream) (int64, error) {
	var carry []byte // the start of a line cut by the previous chunk boundary
	seen := 0
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		b := make([]byte, end-start, int(end-start)+len(carry))
		m, err := src.ReadAt(b, start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		b = append(b[:m], carry...)
		// Lines of b, from the last; the first may be cut unless start is 0.
		lineEnd := len(b)
		for {
			i := bytes.LastIndexByte(b[:max(lineEnd-1, 0)], '\n')
			if i < 0 && start > 0 {
				carry = append([]byte(nil), b[:lineEnd]...)
				break
			}
			line := b[i+1 : lineEnd]
			if e, err := Parse(line); err == nil && !e.Partial && (stream == "" || e.Stream == stream) && bytes.HasSuffix(line, []byte{'\n'}) {
				seen++
				if seen > n {
					return start + int64(lineEnd), nil
				}
			}
			if i < 0 {
				return 0, nil
			}
			lineEnd = i + 1
		}
		end = start
	}
	return 0, nil
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.left == 0 {
			r.err = io.EOF
			return 0, r.err
		}
		line, err := r.next()
		if err != nil {
			r.err = err
			continue
		}
		e, perr := Parse(line)
		if perr != nil || (r.opts.Stream != "" && e.Stream != r.opts.Stream) || (!r.opts.Since.IsZero() && e.Time.Before(r.opts.Since)) {
			continue
		}
		if r.opts.Timestamps {
			r.out = e.Time.UTC().AppendFormat(r.out, time.RFC3339Nano)
			r.out = append(r.out, ' ')
		}
		r.out = append(r.out, e.Text...)
		if !e.Partial {
			r.out = append(r.out, '\n')
		}
		if r.left > 0 && int64(len(r.out)) > r.left {
			r.out = r.out[:r.left]
		}
		if r.left > 0 {
			r.left -= int64(len(r.out))
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// next returns the next complete entry (with its newline), waiting for one
// when following.
func (r *Reader) next() ([]byte, error) {
	var err error
	for {
		if i := bytes.IndexByte(r.buf, '\n'); i >= 0 {
			line := r.buf[:i+1]
			r.buf = r.buf[i+1:]
			r.off += int64(i + 1)
			return line, nil
		}
		size := r.end
		if r.opts.Follow {
			if size, err = r.src.Size(); err != nil {
				return nil, err
			}
		}
		have := r.off + int64(len(r.buf))
		if size > have {
			b := make([]byte, min(size-have, chunk))
			n, err := r.src.ReadAt(b, have)
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			r.buf = append(r.buf, b[:n]...)
			if n > 0 {
				continue
			}
		}
		if r.final || !r.opts.Follow {
			return nil, io.EOF
		}
		final, err := r.src.Wait(r.ctx, size)
		if err != nil {
			return nil, err
		}
		r.final = final
	}
}
