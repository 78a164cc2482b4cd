package informer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// TestStressConcurrentWritersReadersHandlers runs writers, readers, handler
// churn, broken watches and compactions at once, and checks that the cache
// ends equal to the source and that every handler's events replay, without
// a duplicate add or a missed delete, to the source's final state.
func TestStressConcurrentWritersReadersHandlers(t *testing.T) {
	src := newSource()
	inf := mustNew(t, src, Config[*pod]{
		Backoff:  Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		PageSize: 7,
		Indexers: map[string]IndexFunc[*pod]{"node": nodeIndex},
	})
	steady := &recorder{}
	if _, err := inf.AddHandler(steady); err != nil {
		t.Fatal(err)
	}
	startInformer(t, inf)
	if err := inf.WaitForSync(context.Background()); err != nil {
		t.Fatal(err)
	}

	const writers, opsPerWriter, keysPerWriter = 6, 300, 20
	ctx, stop := context.WithCancel(context.Background())
	var wg, bg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := 0; i < opsPerWriter; i++ {
				name := fmt.Sprintf("w%d-%d", w, r.IntN(keysPerWriter))
				p := newPod("ns", name, i)
				p.Spec.NodeName = fmt.Sprint("n", r.IntN(4))
				rev, err := src.Create(p)
				if errors.Is(err, store.ErrAlreadyExists) {
					if r.IntN(3) == 0 {
						rev, err = src.Delete("ns/" + name)
					} else {
						rev, err = src.Update(p)
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 { // read-your-writes under load
					if err := inf.WaitForRevision(context.Background(), rev); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(w)
	}
	// Readers.
	for i := 0; i < 3; i++ {
		bg.Add(1)
		go func() {
			defer bg.Done()
			for ctx.Err() == nil {
				for _, p := range inf.List() {
					// It may have been deleted meanwhile, but never renamed.
					if got, ok := inf.Get(p.Namespace, p.Name); ok && got.Name != p.Name {
						t.Errorf("Get(%s) returned %s", p.Name, got.Name)
						return
					}
				}
				ps, err := inf.ByIndex("node", "n1")
				if err != nil {
					t.Error(err)
					return
				}
				for _, p := range ps {
					if p.Spec.NodeName != "n1" {
						t.Errorf("index node=n1 returned %s on %s", p.Name, p.Spec.NodeName)
						return
					}
				}
			}
		}()
	}
	// Handler churn: add, let run, remove; each must see a consistent stream.
	var churned []*recorder
	var churnMu sync.Mutex
	bg.Add(1)
	go func() {
		defer bg.Done()
		for ctx.Err() == nil {
			rec := &recorder{}
			reg, err := inf.AddHandler(rec)
			if err != nil {
				t.Error(err)
				return
			}
			churnMu.Lock()
			churned = append(churned, rec)
			churnMu.Unlock()
			time.Sleep(time.Millisecond)
			reg.Remove()
			<-reg.Done()
		}
	}()
	// Chaos: break watches and compact now and then.
	bg.Add(1)
	go func() {
		defer bg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			time.Sleep(2 * time.Millisecond)
			if i%3 == 0 {
				src.Compact()
				src.Break(&watch.GoneError{})
			} else {
				src.Break(errors.New("stream reset"))
			}
		}
	}()
	late := &recorder{}
	lateAdded := make(chan struct{})
	go func() {
		time.Sleep(5 * time.Millisecond)
		if _, err := inf.AddHandler(late); err != nil {
			t.Error(err)
		}
		close(lateAdded)
	}()
	wg.Wait()
	stop()
	bg.Wait()
	<-lateAdded

	want, rev := sourceModel(t, src, "ns")
	if err := inf.WaitForRevision(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	if d := diffModels(want, cacheModel(inf.Cache())); d != "" {
		t.Fatalf("cache differs from source: %s", d)
	}
	for _, p := range inf.List() {
		ps, _ := inf.ByIndex("node", p.Spec.NodeName)
		found := false
		for _, q := range ps {
			found = found || q == p
		}
		if !found {
			t.Fatalf("%s missing from index node=%s", p.Name, p.Spec.NodeName)
		}
	}
	for name, rec := range map[string]*recorder{"steady": steady, "late": late} {
		waitFor(t, name+" handler drained", func() bool { return inf.metricSample().queueDepth == 0 })
		if d := diffModels(want, replay(t, rec.snapshot())); d != "" {
			t.Fatalf("%s handler's view differs from source: %s", name, d)
		}
	}
	churnMu.Lock()
	defer churnMu.Unlock()
	for _, rec := range churned {
		replay(t, rec.snapshot()) // fails on a duplicate add or unknown delete
	}
	if len(churned) == 0 {
		t.Fatal("no handler churn happened")
	}
	if inf.stats.relists.Load() == 0 {
		t.Fatal("chaos never forced a relist")
	}
}
