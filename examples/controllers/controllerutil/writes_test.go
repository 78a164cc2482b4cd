package controllerutil_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
	"github.com/setpoint-dev/setpoint/store"
)

// deleter fails the pods named in fail and reports "gone" ones as not
// found.
type deleter struct {
	mu      sync.Mutex
	deleted []string
	fail    map[string]error
}

func (d *deleter) Delete(_ context.Context, ns, name string, _ ...store.DeleteOption) (*api.Pod, error) {
	if err := d.fail[name]; err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deleted = append(d.deleted, name)
	return &api.Pod{}, nil
}

// TestDeletePods: every pod is deleted or reported; failed and vanished
// pods are observed at once, so only the real deletions stay expected.
func TestDeletePods(t *testing.T) {
	exp := controllerutil.NewExpectations(nil)
	boom := errors.New("boom")
	d := &deleter{fail: map[string]error{"b": boom, "c": store.ErrNotFound}}
	var pods []*api.Pod
	for _, n := range []string{"a", "b", "c"} {
		p := &api.Pod{}
		p.Namespace, p.Name = "ns", n
		pods = append(pods, p)
	}
	var mu sync.Mutex
	reported := map[string]error{}
	err := controllerutil.DeletePods(context.Background(), d, exp, "k", pods, func(p *api.Pod, err error) {
		mu.Lock()
		reported[p.Name] = err
		mu.Unlock()
	})
	if !errors.Is(err, boom) || errors.Is(err, store.ErrNotFound) {
		t.Errorf("err %v, want boom only", err)
	}
	if len(reported) != 2 || reported["a"] != nil || !errors.Is(reported["b"], boom) {
		t.Errorf("reported %v", reported)
	}
	if _, dels := exp.Pending("k"); dels != 1 || exp.Satisfied("k") {
		t.Errorf("pending deletions %d, want 1 (pod a, not yet seen)", dels)
	}
}

// TestCreatePods: the first failure stops the batches; the failed and
// never attempted creations are observed, the successful ones stay
// expected until seen.
func TestCreatePods(t *testing.T) {
	exp := controllerutil.NewExpectations(nil)
	var mu sync.Mutex
	calls := 0
	created, err := controllerutil.CreatePods(context.Background(), exp, "k", 10, func(_ context.Context, i int) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if i >= 3 {
			return errors.New("quota")
		}
		return nil
	})
	if err == nil || created != 3 {
		t.Fatalf("created %d, err %v; want 3 and an error", created, err)
	}
	if creates, _ := exp.Pending("k"); creates != 3 {
		t.Errorf("pending creations %d, want 3", creates)
	}
	if calls >= 10 {
		t.Errorf("%d calls: slow start did not stop", calls)
	}
}
