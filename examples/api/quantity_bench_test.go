package api

import "testing"

func BenchmarkQuantityParseFormat(b *testing.B) {
	inputs := []string{"100m", "1Gi", "2", "1.5", "500Mi", "1e3", "250m", "4Gi", "0.5", "128974848"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q, err := ParseQuantity(inputs[i%len(inputs)])
		if err != nil {
			b.Fatal(err)
		}
		_ = q.String()
		i++
	}
}
