package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// recorder is a plugin of both kinds that logs what it is called with.
type recorder struct {
	name string
	mu   *sync.Mutex
	log  *[]string
	// mutate, if set, runs in Admit.
	mutate func(a Attributes) error
	// refuse, if set, is returned by Validate without writing.
	refuse error
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) note(s string) {
	r.mu.Lock()
	*r.log = append(*r.log, s)
	r.mu.Unlock()
}

func (r *recorder) Admit(_ context.Context, a Attributes) error {
	r.note(r.name + ".admit " + a.Verb)
	if r.mutate != nil {
		return r.mutate(a)
	}
	return nil
}

func (r *recorder) Validate(ctx context.Context, a Attributes, write func(context.Context) error) error {
	r.note(r.name + ".validate " + a.Verb)
	if r.refuse != nil {
		return r.refuse
	}
	err := write(ctx)
	r.note(r.name + ".after " + a.Verb)
	return err
}

// orderStrategy logs when validation runs.
type orderStrategy struct {
	widgetStrategy
	rec *recorder
}

func (s orderStrategy) Validate(w *widget) error {
	s.rec.note("strategy.validate")
	if w.Labels["admitted"] != "yes" {
		return store.FieldErrors{{Field: "metadata.labels", Reason: "mutating admission did not run first"}}
	}
	return s.widgetStrategy.Validate(w)
}

func (s orderStrategy) ValidateUpdate(w, old *widget) error { return s.Validate(w) }

// TestAdmissionChainOrder: Admit (in chain order) runs after defaulting and
// before the strategy's validation and may change the object; Validate
// (in chain order) wraps the write; deletes pass Validate only.
func TestAdmissionChainOrder(t *testing.T) {
	var mu sync.Mutex
	var log []string
	first := &recorder{name: "first", mu: &mu, log: &log, mutate: func(a Attributes) error {
		a.Object.GetObjectMeta().Labels = map[string]string{"admitted": "yes"}
		return nil
	}}
	second := &recorder{name: "second", mu: &mu, log: &log}
	ts := newTestServer(t, func(c *Config[*widget]) {
		c.Strategy = orderStrategy{rec: second}
		c.Admission = []AdmissionPlugin{first, second}
	})
	if code, _, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	if a, err := ts.st.Get(t.Context(), "ns", "a"); err != nil || a.Labels["admitted"] != "yes" {
		t.Fatalf("stored %+v, %v: the mutation was not written", a, err)
	}
	if code, _, body := ts.do(t, "PATCH", widgets+"/a", "application/merge-patch+json", `{"spec":{"size":3}}`); code != 200 {
		t.Fatalf("patch: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "DELETE", widgets+"/a", "", ""); code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	want := strings.Join([]string{
		"first.admit create", "second.admit create", "strategy.validate",
		"first.validate create", "second.validate create", "second.after create", "first.after create",
		"first.admit patch", "second.admit patch", "strategy.validate",
		"first.validate patch", "second.validate patch", "second.after patch", "first.after patch",
		"first.validate delete", "second.validate delete", "second.after delete", "first.after delete",
	}, "\n")
	if got := strings.Join(log, "\n"); got != want {
		t.Fatalf("calls:\n%s\nwant:\n%s", got, want)
	}
}

// lazy allows without writing: a bug the handler reports.
type lazy struct{}

func (lazy) Name() string { return "Lazy" }
func (lazy) Validate(context.Context, Attributes, func(context.Context) error) error {
	return nil
}

// TestAdmissionRejectsWriteNothing: a refusal at either phase, or a plugin
// that neither writes nor refuses, answers with an error Status and leaves
// the store unchanged.
func TestAdmissionRejectsWriteNothing(t *testing.T) {
	var mu sync.Mutex
	var log []string
	for _, tc := range []struct {
		name   string
		plugin AdmissionPlugin
		code   int
		msg    string
	}{
		{"validate refuses", &recorder{name: "v", mu: &mu, log: &log, refuse: watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, "no widgets today")}, 403, "no widgets today"},
		{"admit refuses", &recorder{name: "m", mu: &mu, log: &log, mutate: func(Attributes) error { return errors.New("mutation failed") }}, 500, "mutation failed"},
		{"admit invalid", &recorder{name: "m", mu: &mu, log: &log, mutate: func(Attributes) error { return fmt.Errorf("%w: bad", store.ErrInvalid) }}, 422, "bad"},
		{"no write", lazy{}, 500, "admission plugin Lazy allowed the create"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config[*widget]) { c.Admission = []AdmissionPlugin{tc.plugin} })
			rev := storeRevision(t, ts.st)
			code, st, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`)
			if code != tc.code || !strings.Contains(st.Message, tc.msg) {
				t.Fatalf("create: %d %s, want %d mentioning %q", code, body, tc.code, tc.msg)
			}
			if got := storeRevision(t, ts.st); got != rev {
				t.Fatalf("a rejected create wrote: revision %d -> %d", rev, got)
			}
		})
	}
}

// retrier calls write a second time: after a failure (a conflict it
// would re-count for, say) or, wrongly, after a success.
type retrier struct {
	// afterSuccess makes it write again only when the first write succeeded.
	afterSuccess bool
	writes       int
}

func (r *retrier) Name() string { return "Retrier" }

func (r *retrier) Validate(ctx context.Context, a Attributes, write func(context.Context) error) error {
	if a.Verb != "create" {
		return write(ctx)
	}
	first := write(ctx)
	r.writes++
	if first != nil && r.afterSuccess {
		return first
	}
	err := write(ctx)
	r.writes++
	return err
}

// failOnce refuses the first write it sees, then allows.
type failOnce struct{ seen atomic.Int32 }

func (f *failOnce) Name() string { return "FailOnce" }

func (f *failOnce) Validate(ctx context.Context, a Attributes, write func(context.Context) error) error {
	if a.Verb == "create" && f.seen.Add(1) == 1 {
		return &store.ConflictError{Key: "quota"}
	}
	return write(ctx)
}

// TestAdmissionRetryAfterFailedWrite: a plugin may call write again after
// a call that failed (the rest of the chain runs again, and the object is
// written once); calling it after a success is an internal error that
// names the plugin, and the object stays written once.
func TestAdmissionRetryAfterFailedWrite(t *testing.T) {
	t.Run("after failure", func(t *testing.T) {
		r := &retrier{}
		f := &failOnce{}
		ts := newTestServer(t, func(c *Config[*widget]) { c.Admission = []AdmissionPlugin{r, f} })
		if code, _, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`); code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		if r.writes != 2 || f.seen.Load() != 2 {
			t.Fatalf("writes %d, next plugin saw %d; want 2 and 2", r.writes, f.seen.Load())
		}
		if _, err := ts.st.Get(t.Context(), "ns", "a"); err != nil {
			t.Fatalf("not stored: %v", err)
		}
	})
	t.Run("after success", func(t *testing.T) {
		r := &retrier{afterSuccess: true}
		ts := newTestServer(t, func(c *Config[*widget]) { c.Admission = []AdmissionPlugin{r} })
		code, st, body := ts.do(t, "POST", widgets, "application/json", `{"metadata":{"name":"a"}}`)
		if code != 500 || !strings.Contains(st.Message, "Retrier called write again after it succeeded") {
			t.Fatalf("create: %d %s, want 500 naming the plugin", code, body)
		}
		l, err := ts.st.List(t.Context(), "", store.ListOptions{})
		if err != nil || len(l.Items) != 1 {
			t.Fatalf("stored %v, %v: want the one object the first write made", l, err)
		}
	})
}

// capped allows at most max widgets: it counts under a lock held across
// the write, as a quota plugin does.
type capped struct {
	st       *store.Store[*widget]
	max      int
	mu       sync.Mutex
	inFlight atomic.Int32
	overlap  atomic.Bool
}

func (c *capped) Name() string { return "Capped" }

func (c *capped) Validate(ctx context.Context, a Attributes, write func(context.Context) error) error {
	if a.Verb != "create" {
		return write(ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight.Add(1) > 1 {
		c.overlap.Store(true)
	}
	defer c.inFlight.Add(-1)
	l, err := c.st.List(ctx, "", store.ListOptions{})
	if err != nil {
		return err
	}
	if len(l.Items) >= c.max {
		return watch.NewStatusError(http.StatusForbidden, watch.StatusReasonForbidden, "widget cap reached")
	}
	return write(ctx)
}

// TestAdmissionLockAcrossWriteStress: many concurrent creates through a
// plugin that holds its lock across the write never exceed its cap, and
// exactly cap of them succeed.
func TestAdmissionLockAcrossWriteStress(t *testing.T) {
	c := &capped{max: 7}
	ts := newTestServer(t, func(cfg *Config[*widget]) {
		c.st = cfg.Store
		cfg.Admission = []AdmissionPlugin{c}
	})
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			code, _, body := ts.do(t, "POST", widgets, "application/json", fmt.Sprintf(`{"metadata":{"name":"w%d"}}`, i))
			switch code {
			case 201:
				ok.Add(1)
			case 403:
				refused.Add(1)
			default:
				t.Errorf("create w%d: %d %s", i, code, body)
			}
		})
	}
	wg.Wait()
	l, err := ts.st.List(t.Context(), "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != c.max || ok.Load() != int32(c.max) || refused.Load() != int32(40-c.max) {
		t.Fatalf("%d stored, %d created, %d refused; want %d, %d, %d", len(l.Items), ok.Load(), refused.Load(), c.max, c.max, 40-c.max)
	}
	if c.overlap.Load() {
		t.Fatal("two writes ran inside the plugin's lock at once")
	}
}
