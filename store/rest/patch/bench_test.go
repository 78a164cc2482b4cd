package patch

import "testing"

func BenchmarkStrategicMergePatch(b *testing.B) {
	doc := []byte(basePod)
	p := []byte(`{"metadata":{"labels":{"app":null,"tier":"front"}},"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"side"}],"containers":[{"name":"side","image":"busybox:2"}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := StrategicMergePatch(doc, p, tSchema); err != nil {
			b.Fatal(err)
		}
	}
}
