package api

import (
	"encoding/json"
	"testing"
)

func TestNewStatus(t *testing.T) {
	s := NewStatus(404, "NotFound", `pods "x" not found`)
	s.Details = &StatusDetails{Name: "x", Kind: "pods"}
	b, _ := json.Marshal(s)
	want := `{"apiVersion":"v1","kind":"Status","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	if NewStatus(200, "", "").Status != StatusSuccess {
		t.Fatal("200 is Success")
	}
}
