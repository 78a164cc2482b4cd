package etcd_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
	"github.com/setpoint-dev/setpoint/store/etcd"
)

func Example() {
	ctx := context.Background()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: true})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	b := etcd.New(srv.Client())
	defer b.Close()

	lock, _ := b.Create(ctx, "/locks/leader", []byte("me"))
	term := store.Fence{Key: "/locks/leader", CreateRevision: lock}
	rev, err := b.Create(ctx, "/obj", []byte("v1"), term)
	fmt.Println("fenced create:", err)

	// A new leader re-creates the lock: the old term's writes now fail.
	_, _, _ = b.Delete(ctx, "/locks/leader", 0)
	_, _ = b.Create(ctx, "/locks/leader", []byte("other"))
	_, err = b.Update(ctx, "/obj", []byte("v2"), rev, term)
	fmt.Println("stale term:", errors.Is(err, store.ErrFenced))
	// Output:
	// fenced create: <nil>
	// stale term: true
}
