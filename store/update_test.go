package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

func TestUpdateCannotRename(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource)
	p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "b"
	if _, err := pods.Update(ctx, p); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update to another name: err = %v, want ErrNotFound (it addresses b)", err)
	}
	if _, err := pods.GuaranteedUpdate(ctx, "ns", "a", func(p *Pod) (*Pod, error) {
		p.Name = "b"
		return p, nil
	}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("GuaranteedUpdate renaming: err = %v, want ErrInvalid", err)
	}
	if _, err := pods.GuaranteedUpdate(ctx, "ns", "a", func(p *Pod) (*Pod, error) { return nil, nil }); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("GuaranteedUpdate returning nil: err = %v, want ErrInvalid", err)
	}
	if _, err := pods.Update(ctx, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Update(nil): err = %v", err)
	}
}

// TestConcurrentCreateDelete races many writers on one name: exactly one
// Create and one Delete win each round, the others get ErrAlreadyExists and
// ErrNotFound.
func TestConcurrentCreateDelete(t *testing.T) {
	ctx := context.Background()
	pods, _ := store.New[*Pod](memory.New(), podResource)
	const rounds, writers = 50, 8
	for round := range rounds {
		var created, deleted atomic.Int32
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "x"}})
				switch {
				case err == nil:
					created.Add(1)
				case !errors.Is(err, store.ErrAlreadyExists):
					t.Errorf("Create: %v", err)
				}
			}()
		}
		wg.Wait()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := pods.Delete(ctx, "ns", "x")
				switch {
				case err == nil:
					deleted.Add(1)
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("Delete: %v", err)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 1 || deleted.Load() != 1 {
			t.Fatalf("round %d: %d creates and %d deletes won, want 1 and 1", round, created.Load(), deleted.Load())
		}
	}
}

// TestUnconditionalUpdateRetries: concurrent updates with an empty
// resourceVersion all succeed, each on the version current when it wrote.
func TestUnconditionalUpdateRetries(t *testing.T) {
	ctx := context.Background()
	b := memory.New()
	pods, _ := store.New[*Pod](b, podResource)
	p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := store.ParseRevision(p.ResourceVersion)
	const writers = 16
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "a"}, Spec: PodSpec{Image: string(rune('a' + i))}}
			if _, err := pods.Update(ctx, u); err != nil {
				t.Errorf("unconditional Update: %v", err)
			}
		}()
	}
	wg.Wait()
	// Each writer set a distinct image, so each wrote exactly once.
	if rev, _ := b.Revision(ctx); rev != start+writers {
		t.Fatalf("revision %d after %d updates from %d", rev, writers, start)
	}
}
