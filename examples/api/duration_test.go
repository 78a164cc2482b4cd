package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(api.Duration{Duration: 90 * time.Second})
	if err != nil || string(b) != `"1m30s"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var d api.Duration
	if err := json.Unmarshal([]byte(`"2h"`), &d); err != nil || d.Duration != 2*time.Hour {
		t.Fatalf("Unmarshal = %v, %v", d, err)
	}
	for _, bad := range []string{`"soon"`, `90`, `{}`} {
		d := api.Duration{Duration: time.Second}
		err := json.Unmarshal([]byte(bad), &d)
		if err == nil || !strings.Contains(err.Error(), "duration") {
			t.Errorf("%s: error %v does not name the duration", bad, err)
		}
		if d.Duration != time.Second {
			t.Errorf("%s: a failed decode changed the value to %v", bad, d.Duration)
		}
	}
}

func TestRawExtensionJSON(t *testing.T) {
	var r api.RawExtension
	if err := json.Unmarshal([]byte(`{"a":[1,2]}`), &r); err != nil || string(r.Raw) != `{"a":[1,2]}` {
		t.Fatalf("Unmarshal = %q, %v", r.Raw, err)
	}
	b, err := json.Marshal(r)
	if err != nil || string(b) != `{"a":[1,2]}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	if b, _ := json.Marshal(api.RawExtension{}); string(b) != "null" {
		t.Fatalf("empty RawExtension encodes as %s", b)
	}
}
