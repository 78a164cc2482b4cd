package fakelw

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/watch"
)

type obj struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Value            int `json:"value"`
}

func copyObj(o *obj) *obj {
	c := *o
	c.Labels = maps.Clone(o.Labels)
	return &c
}

func newObj(name string, v int) *obj {
	return &obj{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: name}, Value: v}
}

// source is what the contract needs: the informer's ListerWatcher plus
// writes that report their revision.
type source interface {
	List(ctx context.Context, namespace string, opts store.ListOptions) (*store.List[*obj], error)
	Watch(ctx context.Context, namespace string, opts store.WatchOptions) (watch.Watcher[*obj], error)
	create(name string, v int) int64
	update(name string, v int) int64
	remove(name string) int64
	compact()
}

type fakeSource struct{ *Source[*obj] }

func must(rev int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return rev
}

func (f fakeSource) create(name string, v int) int64 { return must(f.Create(newObj(name, v))) }
func (f fakeSource) update(name string, v int) int64 { return must(f.Update(newObj(name, v))) }
func (f fakeSource) remove(name string) int64        { return must(f.Delete("ns/" + name)) }
func (f fakeSource) compact()                        { f.Compact() }

type typedSource struct {
	*store.Store[*obj]
}

func (s typedSource) rev(o *obj, err error) int64 {
	if err != nil {
		panic(err)
	}
	r, err := store.ParseRevision(o.ResourceVersion)
	if err != nil {
		panic(err)
	}
	return r
}

func (s typedSource) create(name string, v int) int64 {
	return s.rev(s.Create(context.Background(), newObj(name, v)))
}

func (s typedSource) update(name string, v int) int64 {
	return s.rev(s.GuaranteedUpdate(context.Background(), "ns", name, func(o *obj) (*obj, error) {
		o.Value = v
		return o, nil
	}))
}

func (s typedSource) remove(name string) int64 {
	if _, err := s.Delete(context.Background(), "ns", name); err != nil {
		panic(err)
	}
	return must(s.Backend().Revision(context.Background()))
}

func (s typedSource) compact() {
	b := s.Backend()
	if err := b.Compact(context.Background(), must(b.Revision(context.Background()))); err != nil {
		panic(err)
	}
}

// TestContract runs the same ListerWatcher checks on the fake and on the
// real typed store (memory backend), so the informer's unit tests run
// against a source that behaves like the real one.
func TestContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runContract(t, fakeSource{New(copyObj)}) })
	t.Run("typed-store", func(t *testing.T) {
		st, err := store.New[*obj](memory.New(), store.Resource{Name: "objs", APIVersion: "v1", Kind: "Obj", Namespaced: true})
		if err != nil {
			t.Fatal(err)
		}
		runContract(t, typedSource{st})
	})
}

func runContract(t *testing.T, s source) {
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		s.create(fmt.Sprint("o", i), i)
	}
	// Paged list, consistent at the first page's revision across a write.
	var names []string
	opts := store.ListOptions{Limit: 2}
	var rev int64
	for page := 0; ; page++ {
		l, err := s.List(ctx, "ns", opts)
		if err != nil {
			t.Fatal(err)
		}
		if page == 0 {
			rev = l.Revision
			s.create("zz-between-pages", 0)
		} else if l.Revision != rev {
			t.Fatalf("page %d at revision %d, first page at %d", page, l.Revision, rev)
		}
		for _, o := range l.Items {
			names = append(names, o.Name)
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	if fmt.Sprint(names) != "[o0 o1 o2 o3 o4]" {
		t.Fatalf("paged list = %v", names)
	}
	// Watch after rev: exactly the later writes, in order, with revisions.
	w, err := s.Watch(ctx, "ns", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	type want struct {
		typ  watch.EventType
		name string
		rev  int64
	}
	wants := []want{{watch.Added, "zz-between-pages", rev + 1}}
	wants = append(wants, want{watch.Modified, "o1", s.update("o1", 10)})
	wants = append(wants, want{watch.Deleted, "o2", s.remove("o2")})
	wants = append(wants, want{watch.Added, "o5", s.create("o5", 5)})
	for i, wt := range wants {
		select {
		case ev := <-w.Events():
			if ev.Type != wt.typ || ev.Object.Name != wt.name || ev.Revision != wt.rev {
				t.Fatalf("event %d = %s %s @%d, want %s %s @%d", i, ev.Type, ev.Object.Name, ev.Revision, wt.typ, wt.name, wt.rev)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%v) never arrived", i, wt)
		}
	}
	// After compaction, a watch from before it is gone.
	s.update("o1", 11)
	s.compact()
	gw, err := s.Watch(ctx, "ns", store.WatchOptions{AfterRevision: rev})
	if err == nil {
		for range gw.Events() {
		}
		err = gw.Err()
	}
	if !errors.Is(err, watch.ErrGone) {
		t.Fatalf("watch from a compacted revision: %v, want ErrGone", err)
	}
}
