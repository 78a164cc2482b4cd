package cronjob

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// TestMostRecent: the latest schedule time not after now and the count
// of unmet times, also past the 100-missed limit.
func TestMostRecent(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		spec, earliest, now, want string
		n                         int
	}{
		{"*/5 * * * *", "2026-01-01T10:00:00Z", "2026-01-01T10:04:59Z", "", 0},
		{"*/5 * * * *", "2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z", "2026-01-01T10:05:00Z", 1},
		{"*/5 * * * *", "2026-01-01T10:00:00Z", "2026-01-01T10:17:00Z", "2026-01-01T10:15:00Z", 3},
		{"* * * * *", "2026-01-01T00:00:00Z", "2026-01-03T07:30:10Z", "2026-01-03T07:30:00Z", 101},
		{"0 0 1 * *", "2010-01-01T00:00:00Z", "2026-03-15T00:00:00Z", "2026-03-01T00:00:00Z", 101},
		{"@hourly", "2026-01-01T10:30:00Z", "2026-01-01T12:10:00Z", "2026-01-01T12:00:00Z", 2},
	} {
		s, err := cron.ParseStandard(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, n := mostRecent(s, at(tc.earliest), at(tc.now))
		var want time.Time
		if tc.want != "" {
			want = at(tc.want)
		}
		if !got.Equal(want) || n != tc.n {
			t.Errorf("%s from %s at %s: %v, %d; want %v, %d", tc.spec, tc.earliest, tc.now, got, n, want, tc.n)
		}
	}
}
