package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a span of time that travels as Go's duration text ("1h2m3s"),
// like Kubernetes' meta/v1 Duration.
type Duration struct {
	time.Duration
}

// MarshalJSON encodes d as a string such as "90s" → "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Duration.String())
}

// UnmarshalJSON decodes a duration string; null leaves d unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %s is not a JSON string", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	d.Duration = v
	return nil
}
