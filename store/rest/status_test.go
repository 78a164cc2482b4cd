package rest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int32
		reason string
	}{
		{fmt.Errorf("get x: %w", store.ErrNotFound), 404, watch.StatusReasonNotFound},
		{fmt.Errorf("x: %w", store.ErrAlreadyExists), 409, watch.StatusReasonAlreadyExists},
		{&store.ConflictError{Key: "k"}, 409, watch.StatusReasonConflict},
		{fmt.Errorf("x: %w", store.ErrFenced), 409, watch.StatusReasonFenced},
		{fmt.Errorf("x: %w", store.ErrGone), 410, watch.StatusReasonExpired},
		{store.FieldErrors{{Field: "spec.a", Reason: "bad"}}, 422, watch.StatusReasonInvalid},
		{fmt.Errorf("%w", patch.ErrInvalidPatch), 422, watch.StatusReasonInvalid},
		{fmt.Errorf("%w", patch.ErrUnsupportedType), 415, watch.StatusReasonUnsupportedMediaType},
		{watch.ErrTooSlow, 429, watch.StatusReasonTooManyRequests},
		{fmt.Errorf("etcd create k: %w", store.ErrNoSpace), 507, watch.StatusReasonServiceUnavailable},
		{watch.NewStatusError(403, watch.StatusReasonForbidden, "no"), 403, watch.StatusReasonForbidden},
		{errors.New("boom"), 500, watch.StatusReasonInternalError},
	} {
		st := ErrorStatus(tc.err, "Widget", "g", "a")
		if st.Code != tc.code || st.Reason != tc.reason || st.Kind != "Status" || st.Status != "Failure" {
			t.Errorf("ErrorStatus(%v) = %d %s, want %d %s", tc.err, st.Code, st.Reason, tc.code, tc.reason)
		}
	}
	st := ErrorStatus(store.FieldErrors{{Field: "spec.a", Reason: "bad"}, {Field: "spec.b", Reason: "worse"}}, "Widget", "", "w")
	if st.Details == nil || len(st.Details.Causes) != 2 || st.Details.Causes[1].Field != "spec.b" || !strings.Contains(st.Message, `Widget "w" is invalid`) {
		t.Fatalf("422 details: %+v", st)
	}
	// the client maps statuses back
	for _, tc := range []struct {
		st   *watch.Status
		want error
	}{
		{watch.NewStatus(404, watch.StatusReasonNotFound, ""), store.ErrNotFound},
		{watch.NewStatus(409, watch.StatusReasonAlreadyExists, ""), store.ErrAlreadyExists},
		{watch.NewStatus(409, watch.StatusReasonConflict, ""), store.ErrConflict},
		{watch.NewStatus(409, watch.StatusReasonFenced, ""), store.ErrFenced},
		{watch.NewStatus(410, watch.StatusReasonExpired, ""), store.ErrGone},
		{watch.NewStatus(422, watch.StatusReasonInvalid, ""), store.ErrInvalid},
		{watch.NewStatus(413, watch.StatusReasonRequestEntityTooLarge, ""), store.ErrTooLarge},
	} {
		if err := (&ClientError{Status: *tc.st}); !errors.Is(err, tc.want) {
			t.Errorf("ClientError %d %s does not wrap %v", tc.st.Code, tc.st.Reason, tc.want)
		}
	}
}

func TestParseFences(t *testing.T) {
	f, err := ParseFences([]string{"/a/b=3", " /c=4 , /d=x=5"})
	if err != nil || len(f) != 3 || f[0] != (store.Fence{Key: "/a/b", CreateRevision: 3}) || f[2] != (store.Fence{Key: "/d=x", CreateRevision: 5}) {
		t.Fatalf("ParseFences: %+v %v", f, err)
	}
	if got := FormatFences(f[:1]); len(got) != 1 || got[0] != "/a/b=3" {
		t.Fatalf("FormatFences: %v", got)
	}
	for _, bad := range []string{"", "x", "=3", "/a=0", "/a=-1", "/a=b"} {
		if _, err := ParseFences([]string{bad}); err == nil {
			t.Errorf("ParseFences(%q) accepted", bad)
		}
	}
}

func FuzzParseFences(f *testing.F) {
	f.Add("/a/b=3")
	f.Add("/a=1,/b=2")
	f.Add("==")
	f.Fuzz(func(t *testing.T, v string) {
		fences, err := ParseFences([]string{v})
		if err != nil {
			return
		}
		again, err := ParseFences(FormatFences(fences))
		if err != nil || len(again) != len(fences) {
			t.Fatalf("round trip of %q: %+v -> %+v (%v)", v, fences, again, err)
		}
		for i := range fences {
			if fences[i].CreateRevision <= 0 || fences[i].Key == "" || again[i] != fences[i] {
				t.Fatalf("fence %d of %q: %+v / %+v", i, v, fences[i], again[i])
			}
		}
	})
}
