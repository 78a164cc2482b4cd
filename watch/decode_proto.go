package watch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/setpoint-dev/setpoint/internal/pbwire"
)

// DefaultMaxFrame is the frame limit NewProtobufDecoder uses when given
// maxFrame <= 0.
const DefaultMaxFrame = DefaultMaxLine

// ProtobufEvent is one decoded protobuf frame before its object is
// decoded into a type.
type ProtobufEvent struct {
	// Type is a valid event type.
	Type EventType
	// Object is the event's object in the protobuf envelope (parsed:
	// ParseEnvelope succeeded on it).
	Object Envelope
	// Frame is the 1-based frame the event was read from.
	Frame int
	// InitialEventsEnd reports a BOOKMARK whose object carries
	// InitialEventsEndAnnotation: "true".
	InitialEventsEnd bool
}

// ProtobufDecoder reads the protobuf watch encoding Encoder writes
// WithProtobuf: frames of a 4-byte big-endian length and a WatchEvent
// message. A malformed frame (truncated, longer than the limit, not a
// WatchEvent, an unknown event type, an object outside the envelope) is a
// *DecodeError naming the frame; unknown fields are skipped. Errors are
// sticky. A ProtobufDecoder is not safe for concurrent use.
type ProtobufDecoder struct {
	r     io.Reader
	max   int
	frame int
	buf   []byte
	err   error
}

// NewProtobufDecoder returns a decoder that reads from r and rejects
// frames longer than maxFrame bytes (DefaultMaxFrame if maxFrame <= 0).
func NewProtobufDecoder(r io.Reader, maxFrame int) *ProtobufDecoder {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return &ProtobufDecoder{r: r, max: maxFrame}
}

// Next returns the next event, or io.EOF at the clean end of the input
// (between frames). The event's bytes are valid until the next call.
func (d *ProtobufDecoder) Next() (ProtobufEvent, error) {
	if d.err != nil {
		return ProtobufEvent{}, d.err
	}
	ev, err := d.next()
	if err != nil {
		d.err = err
	}
	return ev, err
}

func (d *ProtobufDecoder) next() (ProtobufEvent, error) {
	var hdr [4]byte
	n, err := io.ReadFull(d.r, hdr[:])
	switch {
	case err == io.EOF:
		return ProtobufEvent{}, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ProtobufEvent{}, &DecodeError{Frame: d.frame + 1, Reason: fmt.Sprintf("truncated frame length (%d of 4 bytes)", n)}
	case err != nil:
		return ProtobufEvent{}, fmt.Errorf("watch: reading frame %d: %w", d.frame+1, err)
	}
	d.frame++
	size := binary.BigEndian.Uint32(hdr[:])
	if uint64(size) > uint64(d.max) {
		return ProtobufEvent{}, &DecodeError{Frame: d.frame, Reason: fmt.Sprintf("frame of %d bytes is longer than the limit of %d", size, d.max)}
	}
	if cap(d.buf) < int(size) {
		d.buf = make([]byte, size)
	}
	d.buf = d.buf[:size]
	if n, err := io.ReadFull(d.r, d.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return ProtobufEvent{}, &DecodeError{Frame: d.frame, Reason: fmt.Sprintf("truncated frame: %d of %d bytes", n, size)}
		}
		return ProtobufEvent{}, fmt.Errorf("watch: reading frame %d: %w", d.frame, err)
	}
	return ParseProtobufFrame(d.buf, d.frame)
}

// ParseProtobufFrame parses one frame's WatchEvent message (without its
// length prefix); frame numbers errors.
func ParseProtobufFrame(msg []byte, frame int) (ProtobufEvent, error) {
	ev := ProtobufEvent{Frame: frame}
	var typ *string
	var obj []byte
	err := pbwire.Range(msg, func(f pbwire.Field) error {
		switch f.Num {
		case 1:
			s, err := pbwire.String("type", f)
			typ = &s
			return err
		case 2:
			ext, err := pbwire.Message("object", f)
			if err != nil {
				return err
			}
			obj = []byte{} // present, even if its raw field is not
			return pbwire.Range(ext, func(f pbwire.Field) error {
				if f.Num != 1 {
					return nil
				}
				var err error
				obj, err = pbwire.Message("object.raw", f)
				return err
			})
		}
		return nil
	})
	if err != nil {
		return ev, &DecodeError{Frame: frame, Reason: "not a WatchEvent message", Err: err}
	}
	if typ == nil {
		return ev, &DecodeError{Frame: frame, Reason: `missing "type"`}
	}
	ev.Type = EventType(*typ)
	if !ev.Type.Valid() {
		return ev, &DecodeError{Frame: frame, Reason: fmt.Sprintf("unknown event type %q", *typ)}
	}
	if len(obj) == 0 {
		return ev, &DecodeError{Frame: frame, Reason: fmt.Sprintf(`%s event is missing "object"`, ev.Type)}
	}
	if ev.Object, err = ParseEnvelope(obj); err != nil {
		return ev, &DecodeError{Frame: frame, Reason: fmt.Sprintf("%s event: object", ev.Type), Err: err}
	}
	if ev.Type == Bookmark {
		// A malformed bookmark object is DecodeProtobufEvent's to report.
		if _, ann, err := objectMetaOf(ev.Object.Raw); err == nil {
			ev.InitialEventsEnd = ann[InitialEventsEndAnnotation] == "true"
		}
	}
	return ev, nil
}

// DecodeProtobufEvent decodes a protobuf wire event into a typed event:
// ADDED, MODIFIED and DELETED objects with decode (which gets the object's
// envelope); their Revision, and a BOOKMARK's, is the object's
// metadata.resourceVersion, which must be a positive decimal string. An
// ERROR's Status becomes Err as a *StatusError. Errors are *DecodeError.
func DecodeProtobufEvent[T any](pe ProtobufEvent, decode func(Envelope) (T, error)) (Event[T], error) {
	bad := func(reason string, err error) (Event[T], error) {
		return Event[T]{}, &DecodeError{Frame: pe.Frame, Reason: reason, Err: err}
	}
	if !pe.Type.Valid() {
		return bad(fmt.Sprintf("unknown event type %q", string(pe.Type)), nil)
	}
	if pe.Type == Error {
		if pe.Object.Kind != "Status" {
			return bad(fmt.Sprintf("ERROR event: object kind is %q, want \"Status\"", pe.Object.Kind), nil)
		}
		st, err := parseStatus(pe.Object.Raw)
		if err != nil {
			return bad("ERROR event: object is not a Status", err)
		}
		st.Kind, st.APIVersion = pe.Object.Kind, pe.Object.APIVersion
		return Event[T]{Type: Error, Err: &StatusError{Status: *st}}, nil
	}
	rv, _, err := objectMetaOf(pe.Object.Raw)
	if err != nil {
		return bad(fmt.Sprintf("%s event: object.metadata", pe.Type), err)
	}
	rev, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || rev <= 0 || rv[0] == '+' {
		return bad(fmt.Sprintf("%s event: object.metadata.resourceVersion %q is not a positive decimal revision", pe.Type, rv), nil)
	}
	e := Event[T]{Type: pe.Type, Revision: rev}
	if pe.Type == Bookmark {
		return e, nil
	}
	if e.Object, err = decode(pe.Object); err != nil {
		return bad(fmt.Sprintf("%s event: object does not decode", pe.Type), err)
	}
	return e, nil
}
