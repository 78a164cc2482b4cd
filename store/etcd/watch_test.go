package etcd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store/etcd"
	"github.com/setpoint-dev/setpoint/store/etcdtest"
	"github.com/setpoint-dev/setpoint/watch"
)

func TestCloseEndsWatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := etcd.New(etcdtest.Shared(t).Client())
	w, err := b.Watch(ctx, "/close-test/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), watch.ErrClosed) {
		t.Fatalf("Err after Close = %v, want ErrClosed", w.Err())
	}
	if _, err := b.Get(ctx, "/x"); !errors.Is(err, etcd.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	// The shared client is still usable.
	if _, err := etcdtest.Shared(t).Client().Get(ctx, "/x"); err != nil {
		t.Fatalf("client after backend Close: %v", err)
	}
}
