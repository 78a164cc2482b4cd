package rest

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCreate: creates through the handler (decode, managedFields,
// validation, store write, response).
func BenchmarkCreate(b *testing.B) {
	as := newApplianceServer(b)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"metadata":{"name":"a%d","labels":{"app":"web","tier":"x"}},"spec":{"image":"web:1","tags":["a","b"],"parts":[{"name":"p1","count":1},{"name":"p2"}]}}`, i)
		req := httptest.NewRequest("POST", appliances, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "bench/1.0")
		rec := httptest.NewRecorder()
		as.h.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
