package store

import (
	"fmt"
	"time"
)

// MicroTime is a timestamp with microsecond precision that serializes as
// RFC 3339 in UTC with exactly six fractional digits
// ("2006-01-02T15:04:05.000000Z"), as Kubernetes' metav1.MicroTime does
// (Lease acquireTime and renewTime, Event eventTime). The zero MicroTime
// serializes as null.
//
// Only times whose UTC form falls in years 0000 to 9999 have an RFC 3339
// form: decoding any other time is an error, and so is encoding one.
type MicroTime struct {
	time.Time
}

// microLayout is RFC 3339 with exactly six fractional digits.
const microLayout = "2006-01-02T15:04:05.000000Z07:00"

// NewMicroTime wraps t in UTC, truncated to microseconds and without its
// monotonic clock reading. The zero time stays zero.
func NewMicroTime(t time.Time) MicroTime {
	if t.IsZero() {
		return MicroTime{}
	}
	return MicroTime{t.Round(0).UTC().Truncate(time.Microsecond)}
}

// MarshalJSON encodes t with six fractional digits in UTC, or null when
// zero. It fails for a time outside years 0000 to 9999 (UTC).
func (t MicroTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	u := t.UTC()
	if err := CheckTimeRange(u); err != nil {
		return nil, fmt.Errorf("micro time %s: %w", u.Format(time.RFC3339Nano), err)
	}
	b := make([]byte, 0, len(microLayout)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, microLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes an RFC 3339 string with any fractional precision
// (truncated to microseconds) or null. A value that is not a string, not
// RFC 3339, or whose UTC form is outside years 0000 to 9999 is an error and
// leaves t unchanged.
func (t *MicroTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("micro time: %s is not a JSON string", b)
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("micro time: %w", err)
	}
	v = v.UTC()
	if err := CheckTimeRange(v); err != nil {
		return fmt.Errorf("micro time %s: %w", b, err)
	}
	t.Time = v.Truncate(time.Microsecond)
	return nil
}
