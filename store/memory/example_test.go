package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

func Example() {
	ctx := context.Background()
	b := memory.New()
	r1, _ := b.Create(ctx, "/a", []byte("one"))
	r2, _ := b.Update(ctx, "/a", []byte("two"), r1)
	_, err := b.Update(ctx, "/a", []byte("three"), r1) // stale
	fmt.Println("stale:", errors.Is(err, store.ErrConflict))

	old, _ := b.Range(ctx, "/", store.RangeOptions{Revision: r1})
	fmt.Printf("at %d: %s\n", r1, old.KVs[0].Value)
	now, _ := b.Range(ctx, "/", store.RangeOptions{})
	fmt.Printf("at %d: %s\n", r2, now.KVs[0].Value)

	_ = b.Compact(ctx, r2)
	_, err = b.Range(ctx, "/", store.RangeOptions{Revision: r1})
	fmt.Println("compacted:", errors.Is(err, store.ErrGone))
	// Output:
	// stale: true
	// at 2: one
	// at 3: two
	// compacted: true
}
