package fieldmanager

import (
	"encoding/json"
	"testing"
)

// BenchmarkUpdateCreate: recording a create (the cost every create pays).
func BenchmarkUpdateCreate(b *testing.B) {
	m, _ := newWidgetManager(b, true)
	src := []byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","namespace":"ns","labels":{"a":"b","c":"d"}},"spec":{"replicas":3,"image":"nginx","args":["a","b"],"parts":[{"name":"a","count":1},{"name":"b","count":2}],"selector":{"app":"x"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		v, err := DecodeJSON(src)
		if err != nil {
			b.Fatal(err)
		}
		es, err := m.Update(nil, v.(map[string]any), nil, nil, Operation{Manager: "m"})
		if err != nil || len(es) != 1 {
			b.Fatal(err)
		}
		if _, err := json.Marshal(es); err != nil {
			b.Fatal(err)
		}
	}
}
