package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

func benchPod(name string) *Pod {
	return &Pod{
		ObjectMeta: store.ObjectMeta{Namespace: "bench", Name: name, Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:       PodSpec{Image: "registry.example/web:1.2.3"},
	}
}

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := pods.Create(ctx, benchPod(fmt.Sprint("p-", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStatusUpdate(b *testing.B) {
	ctx := context.Background()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	p, _ := pods.Create(ctx, benchPod("p"))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Labels["n"] = fmt.Sprint(i)
		var err error
		if p, err = pods.Update(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGuaranteedUpdate(b *testing.B) {
	ctx := context.Background()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	_, _ = pods.Create(ctx, benchPod("p"))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := pods.GuaranteedUpdate(ctx, "bench", "p", func(p *Pod) (*Pod, error) {
			p.Spec.Image = fmt.Sprint("img:", i)
			return p, nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}
