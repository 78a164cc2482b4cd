package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

// SelectorScript writes a change history that exercises every rule of how a
// watch with a selector reports changes (see store.WatchCache): relabels
// with the previous value known and unknown, a value that becomes
// undecodable and readable again, deletions, another namespace, and a last
// pair of writes that every SelectorCases watcher sees. Wrap the backend in
// a Faulty with DropPrevValues(script.Dropped) so that the unknown previous
// values are left out of its watches.
type SelectorScript struct {
	mu   sync.Mutex
	drop map[int64]bool // revisions whose previous value the backend leaves out
}

// NewSelectorScript returns a script that has not run.
func NewSelectorScript() *SelectorScript { return &SelectorScript{drop: map[int64]bool{}} }

// Dropped reports whether the watches leave out the previous value of the
// change at rev (for Faulty.DropPrevValues).
func (s *SelectorScript) Dropped(_ string, rev int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drop[rev]
}

// Run writes the history through st (Widgets in namespaces "ns" and
// "other") and, for the undecodable values, straight to its backend b. It
// returns the revision of each step; index 0 is unused.
func (s *SelectorScript) Run(t testing.TB, b store.Backend, st *store.Store[*Widget]) []int64 {
	t.Helper()
	ctx := context.Background()
	revs := []int64{0}
	step := func(rev int64, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("selector script step %d: %v", len(revs), err)
		}
		revs = append(revs, rev)
	}
	rv := func(w *Widget, err error) (int64, error) {
		if err != nil {
			return 0, err
		}
		return store.ParseRevision(w.ResourceVersion)
	}
	relabel := func(name string, labels map[string]string, dropPrev bool) (int64, error) {
		if dropPrev {
			cur, err := b.Revision(ctx)
			if err != nil {
				return 0, err
			}
			s.mu.Lock()
			s.drop[cur+1] = true // this write's revision
			s.mu.Unlock()
		}
		return rv(st.GuaranteedUpdate(ctx, "ns", name, func(w *Widget) (*Widget, error) {
			w.Labels = labels
			return w, nil
		}))
	}
	front, back := map[string]string{"tier": "front"}, map[string]string{"tier": "back"}
	create := func(ns, name string, labels map[string]string) (int64, error) {
		return rv(st.Create(ctx, NewWidget(ns, name, labels)))
	}
	raw := func(name string, value string) (int64, error) {
		key := st.Key("ns", name)
		kv, err := b.Get(ctx, key)
		if err != nil {
			return 0, err
		}
		return b.Update(ctx, key, []byte(value), kv.ModRevision)
	}
	del := func(name string) (int64, error) { return rv(st.Delete(ctx, "ns", name)) }
	step(create("ns", "a", front))                                         // 1
	step(relabel("a", back, false))                                        // 2
	step(relabel("a", front, true))                                        // 3: previous value unknown
	step(relabel("a", back, true))                                         // 4: previous value unknown
	step(relabel("a", map[string]string{"tier": "back", "x": "1"}, false)) // 5
	step(create("ns", "b", front))                                         // 6
	// 7: a time that encodes but cannot be decoded
	step(raw("b", `{"metadata":{"name":"b","creationTimestamp":"10000-01-01T00:00:00Z"}}`))
	step(raw("b", `{"metadata":{"namespace":"ns","name":"b","labels":{"tier":"back"}}}`)) // 8: readable again
	step(del("a"))                                                                        // 9
	step(del("b"))                                                                        // 10
	step(create("other", "c", front))                                                     // 11
	step(create("ns", "a", front))                                                        // 12
	step(relabel("a", back, false))                                                       // 13
	return revs
}

// SelectorCase is one watcher of SelectorScript's history: a namespace, a
// label selector, a field selector on the name, and the events it must be
// told, each formatted by FormatSelectorEvent.
type SelectorCase struct {
	Name      string
	Namespace string
	// Label is a label selector ("" for none).
	Label string
	// FieldName, if set, selects the object of that name only
	// (fieldSelector metadata.name=...).
	FieldName string
	Want      []string
}

// Options returns the case's WatchOptions (with Filter for FieldName).
func (c SelectorCase) Options(t testing.TB, after int64) store.WatchOptions {
	t.Helper()
	sel, err := store.ParseSelector(c.Label)
	if err != nil {
		t.Fatal(err)
	}
	opts := store.WatchOptions{Selector: sel, AfterRevision: after}
	if name := c.FieldName; name != "" {
		opts.Filter = func(o store.Object) bool { return o.GetObjectMeta().Name == name }
	}
	return opts
}

// FormatSelectorEvent formats an event as "TYPE name step tier", step being
// the index of its revision in revs.
func FormatSelectorEvent(typ string, w *Widget, rev int64, revs []int64) string {
	step := -1
	for i, r := range revs {
		if r == rev {
			step = i
		}
	}
	return fmt.Sprintf("%s %s %d %s", typ, w.Name, step, w.Labels["tier"])
}

// SelectorCases returns the watchers of SelectorScript and what each must be
// told: the rules of store.WatchCache, written out.
func SelectorCases() []SelectorCase {
	all := []string{
		"ADDED a 1 front", "MODIFIED a 2 back", "MODIFIED a 3 front", "MODIFIED a 4 back", "MODIFIED a 5 back",
		"ADDED b 6 front", "DELETED b 7 front", "ADDED b 8 back", "DELETED a 9 back", "DELETED b 10 back",
		"ADDED c 11 front", "ADDED a 12 front", "MODIFIED a 13 back",
	}
	var inNS []string
	for _, e := range all {
		if !strings.HasPrefix(e, "ADDED c ") {
			inNS = append(inNS, e)
		}
	}
	back := []string{
		// 3: front with the previous state unknown: counts as not
		// matching before, and does not match now, so the watcher is not
		// told (it keeps a until it relists); 4: back again with the
		// previous state unknown: Added.
		"ADDED a 2 back", "ADDED a 4 back", "MODIFIED a 5 back",
		"ADDED b 8 back", // readable again: the unreadable state matched nothing
		"DELETED a 9 back", "DELETED b 10 back", "ADDED a 13 back",
	}
	return []SelectorCase{
		{Name: "everything", Want: all},
		{Name: "namespace", Namespace: "ns", Want: inNS},
		{Name: "tier=front", Label: "tier=front", Want: []string{
			"ADDED a 1 front", "DELETED a 2 front", // stops matching: the previous state, at the change's revision
			"ADDED a 3 front", // previous state unknown, matches now: Added
			// 4: back with the previous state unknown: not sent
			"ADDED b 6 front", "DELETED b 7 front", // becomes unreadable: leaves with its last readable state
			"ADDED c 11 front", "ADDED a 12 front", "DELETED a 13 front",
		}},
		{Name: "tier=back", Label: "tier=back", Want: back},
		{Name: "tier!=front", Namespace: "ns", Label: "tier!=front", Want: back},
		{Name: "name=a", Namespace: "ns", FieldName: "a", Want: []string{
			"ADDED a 1 front", "MODIFIED a 2 back",
			"ADDED a 3 front", "ADDED a 4 back", // previous state unknown, with a filter: Added
			"MODIFIED a 5 back", "DELETED a 9 back", "ADDED a 12 front", "MODIFIED a 13 back",
		}},
		{Name: "tier=front,name=a", Namespace: "ns", Label: "tier=front", FieldName: "a", Want: []string{
			"ADDED a 1 front", "DELETED a 2 front", "ADDED a 3 front", "ADDED a 12 front", "DELETED a 13 front",
		}},
	}
}
