package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

func TestMicroTimeJSON(t *testing.T) {
	ts := store.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600)))
	b, err := json.Marshal(ts)
	if err != nil || string(b) != `"2025-01-02T02:04:05.123456Z"` {
		t.Fatalf("Marshal = %s, %v; want six fractional digits in UTC", b, err)
	}
	var back store.MicroTime
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(ts.Time) {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	// Whole seconds still carry six digits, as metav1.MicroTime does.
	b, _ = json.Marshal(store.NewMicroTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)))
	if string(b) != `"2025-01-02T03:04:05.000000Z"` {
		t.Fatalf("whole second = %s", b)
	}
	// Any precision decodes, truncated to microseconds.
	if err := json.Unmarshal([]byte(`"2025-01-02T02:04:05Z"`), &back); err != nil || back.Nanosecond() != 0 {
		t.Fatalf("second precision: %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"2025-01-02T02:04:05.123456789+02:00"`), &back); err != nil ||
		!back.Equal(time.Date(2025, 1, 2, 0, 4, 5, 123456000, time.UTC)) || back.Location() != time.UTC {
		t.Fatalf("nanoseconds with offset: %v, %v", back, err)
	}
	if b, _ := json.Marshal(store.MicroTime{}); string(b) != "null" {
		t.Fatalf("zero = %s, want null", b)
	}
	if err := json.Unmarshal([]byte(`null`), &back); err != nil || !back.IsZero() {
		t.Fatalf("null: %v, %v", back, err)
	}
	if !store.NewMicroTime(time.Time{}).IsZero() {
		t.Fatal("NewMicroTime of the zero time is not zero")
	}
}

// TestMicroTimeRejectsBadInput: a bad value is an error that says what is
// wrong, and the destination keeps its value.
func TestMicroTimeRejectsBadInput(t *testing.T) {
	keep := store.NewMicroTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, c := range []struct{ in, want string }{
		{`12`, "not a JSON string"},
		{`{}`, "not a JSON string"},
		{`"yesterday"`, "micro time"},
		{`"2030-13-01T00:00:00Z"`, "month out of range"},
		{`"9999-12-31T23:59:59-23:59"`, "year 10000"}, // UTC form past 9999
		{`"0000-01-01T00:00:00+01:00"`, "year -1"},    // UTC form before 0000
	} {
		got := keep
		err := json.Unmarshal([]byte(c.in), &got)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Unmarshal(%s) = %v, want an error containing %q", c.in, err, c.want)
		}
		if !got.Equal(keep.Time) {
			t.Errorf("Unmarshal(%s) changed the value to %v", c.in, got)
		}
	}
	if _, err := json.Marshal(store.MicroTime{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("Marshal of year 10000 succeeded")
	}
}

// FuzzMicroTime: decoding never panics, and whatever decodes encodes and
// decodes again to the same instant.
func FuzzMicroTime(f *testing.F) {
	for _, s := range []string{
		`"2025-01-02T02:04:05.123456Z"`, `"2025-01-02T02:04:05Z"`, `"2025-01-02T02:04:05.123456789+05:30"`,
		`"9999-12-31T23:59:59Z"`, `"9999-12-31T23:59:59-23:59"`, `"0000-01-01T00:00:00Z"`, `null`, `12`, `""`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var m store.MicroTime
		if err := json.Unmarshal([]byte(in), &m); err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%s decoded to %v, which does not encode: %v", in, m.Time, err)
		}
		var again store.MicroTime
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if !again.Equal(m.Time) {
			t.Fatalf("%s: %v then %v", in, m.Time, again.Time)
		}
	})
}
