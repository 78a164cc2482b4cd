package store

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeContinue: the continue-token parser never panics, accepts only
// tokens for its own list with a positive revision, and reads back what
// encodeContinue wrote.
func FuzzDecodeContinue(f *testing.F) {
	s := &Store[*plainObj]{prefix: "/setpoint/pods/"}
	f.Add(encodeContinue(5, "/setpoint/pods/ns/a\x00"), int64(5), "/setpoint/pods/ns/a\x00")
	f.Add("", int64(1), "/setpoint/pods/")
	f.Add("e30", int64(0), "")
	f.Add("!!!", int64(-1), "/other/")
	f.Add(encodeContinue(7, "/other/x")+"x", int64(7), "/setpoint/pods/x")
	f.Add("eyJyZXYiOjEsInN0YXJ0IjoiTDNObGRIQnZhVzUwTDNCdlpITXYifQ", int64(2), "/setpoint/pods/\xff")
	f.Fuzz(func(t *testing.T, tok string, rev int64, start string) {
		ct, err := s.decodeContinue(tok, "/setpoint/pods/")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("decodeContinue(%q): %v does not wrap ErrInvalid", tok, err)
			}
		} else if ct.Rev <= 0 || !strings.HasPrefix(string(ct.Start), "/setpoint/pods/") {
			t.Fatalf("decodeContinue(%q) accepted %+v", tok, ct)
		}
		enc := encodeContinue(rev, start)
		ct, err = s.decodeContinue(enc, "/setpoint/pods/")
		valid := rev > 0 && strings.HasPrefix(start, "/setpoint/pods/")
		if valid && (err != nil || ct.Rev != rev || string(ct.Start) != start) {
			t.Fatalf("round trip of (%d, %q) = %+v, %v", rev, start, ct, err)
		}
		if !valid && err == nil {
			t.Fatalf("token for (%d, %q) accepted", rev, start)
		}
	})
}
