package offers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestDriver(t *testing.T) {
	a, _ := newTest(t, Config{})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	var launched atomic.Int32
	reports := map[string]func(TaskState, string){}
	launch := LauncherFunc(func(ctx context.Context, node string, task Task, report func(TaskState, string)) error {
		launched.Add(1)
		reports[task.Name] = report
		report(TaskRunning, "")
		return nil
	})
	if _, err := NewDriver(a, fwSpec("", "", 0, nil), launch); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nameless framework: %v", err)
	}
	d, err := NewDriver(a, fwSpec("f", "", 0, rl("1", "1Gi")), launch)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-d.Ready()
	a.Cycle()
	o := <-d.Offers()

	// beyond the offer: rejected, nothing launched
	big := []Task{{Name: "x", Resources: rl("5", "1Gi")}}
	if err := d.Accept(o, big); !errors.Is(err, ErrExceedsOffer) || launched.Load() != 0 {
		t.Fatalf("accept beyond offer: %v, %d launched", err, launched.Load())
	}
	must(t, d.Accept(o, []Task{{Name: "a", Resources: rl("1", "1Gi")}, {Name: "b", Resources: rl("1", "1Gi")}}))
	if launched.Load() != 2 {
		t.Fatalf("launched %d, want 2", launched.Load())
	}
	for _, want := range []TaskStatus{{"a", "n1", TaskStaging, ""}, {"a", "n1", TaskRunning, ""}, {"b", "n1", TaskStaging, ""}, {"b", "n1", TaskRunning, ""}} {
		if got := <-d.Statuses(); got != want {
			t.Fatalf("status %+v, want %+v", got, want)
		}
	}
	// a terminal state releases once, however often it is reported
	reports["a"](TaskFinished, "")
	reports["a"](TaskFinished, "")
	<-d.Statuses()
	if s := a.Share("f"); s != 0.25 {
		t.Fatalf("share after one of two tasks ended: %v, want 0.25", s)
	}
	// a pending offer, then the driver stops: the offer is rescinded, the
	// running task stays counted
	a.Cycle()
	<-d.Offers()
	cancel()
	if err := <-done; !errors.Is(err, ErrDriverStopped) || !errors.Is(d.Err(), ErrDriverStopped) {
		t.Fatalf("Run: %v, Err: %v", err, d.Err())
	}
	if _, ok := <-d.Offers(); ok {
		t.Fatal("offers channel open after Run returned")
	}
	st, err := a.Status("f")
	must(t, err)
	if st.Registered || st.DominantShare != "0.2500" || len(a.Pending("f")) != 0 {
		t.Fatalf("after stop: %+v, pending %v", st, a.Pending("f"))
	}
	must(t, a.Check())
}
