package runtime

import (
	"strconv"
	"time"
)

// LogStream names a container output stream.
type LogStream string

// The output streams.
const (
	Stdout LogStream = "stdout"
	Stderr LogStream = "stderr"
)

// TailNone, as LogOptions.Tail, returns no past lines: only what is
// written while following (kubectl logs --tail=0).
const TailNone = -1

// LogOptions says which part of a container's output Logs returns.
//
// Logs are kept in the CRI log format, one entry per line written:
// "<time RFC3339Nano> <stdout|stderr> <F|P> <text>", P marking the part of a
// line too long for one entry (16 KiB) or cut short by the container's end.
// Logs returns the text, each line ending in "\n".
type LogOptions struct {
	// Tail returns only the last Tail lines; 0 returns all, TailNone (or
	// any negative) none.
	Tail int
	// Follow keeps the reader open for new output until the container's
	// output ends (it exited) or the context ends (then the read fails
	// with the context's error).
	Follow bool
	// Since, when set, skips lines written before it.
	Since time.Time
	// Timestamps prefixes each line with the time it was written (RFC 3339
	// with nanoseconds, UTC) and a space.
	Timestamps bool
	// LimitBytes, when positive, ends the output after that many bytes.
	LimitBytes int64
	// Stream, when set, returns only that stream's lines (Tail then counts
	// only those).
	Stream LogStream
}

// Validate checks o. The error is a *FieldError naming the field.
func (o LogOptions) Validate() error {
	if o.LimitBytes < 0 {
		return fieldErr("limitBytes", strconv.FormatInt(o.LimitBytes, 10), "must not be negative")
	}
	switch o.Stream {
	case "", Stdout, Stderr:
	default:
		return fieldErr("stream", string(o.Stream), "must be stdout, stderr or empty")
	}
	return nil
}
