package server

import (
	"net/url"
	"testing"
	"time"
)

// FuzzLogOptions: any query either parses into options the runtime
// accepts or is a 400, never a panic.
func FuzzLogOptions(f *testing.F) {
	for _, seed := range []string{"", "follow=true&tailLines=10", "tailLines=0", "tailLines=-1", "limitBytes=0",
		"sinceSeconds=5", "sinceTime=2024-01-01T00:00:00Z", "sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z",
		"timestamps=1&previous=t", "follow=maybe", "limitBytes=9999999999999999999999"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		opts, _, st := logOptions(q, now)
		if st != nil {
			if st.Code != 400 || st.Message == "" {
				t.Fatalf("%q: status %+v, want a 400 with a message", raw, st)
			}
			return
		}
		if err := opts.Validate(); err != nil {
			t.Fatalf("%q: parsed options %+v the runtime refuses: %v", raw, opts, err)
		}
	})
}
