package etcdlock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/election/etcdlock"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/embedetcd"
)

// An Elector campaigns on an etcd-lease lock, writes with its term's fence
// while it leads, and releases the lock when its context ends.
func Example() {
	ctx := context.Background()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: true})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	lock, err := etcdlock.New(srv.Client(), "/setpoint/election/scheduler")
	if err != nil {
		panic(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	el, err := election.New(election.Config{
		Lock:            lock,
		Identity:        "scheduler-1",
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Callbacks: election.Callbacks{
			OnNewLeader: func(id string) { fmt.Println("leader:", id) },
			OnStartedLeading: func(ctx context.Context) {
				// The write succeeds only while this term is current.
				_, err := srv.Backend().Create(ctx, "/setpoint/work", []byte("done"), store.FencesFrom(ctx)...)
				fmt.Println("fenced write:", err)
				cancel() // done: step down
				<-ctx.Done()
			},
			OnStoppedLeading: func() { fmt.Println("stopped leading") },
		},
	})
	if err != nil {
		panic(err)
	}
	if err := el.Run(runCtx); err != nil {
		panic(err)
	}
	obs, err := lock.Get(ctx)
	fmt.Println("released:", err == nil && !obs.Held)
	// Output:
	// leader: scheduler-1
	// fenced write: <nil>
	// stopped leading
	// released: true
}

// Two candidates take the lock in turn: each acquisition is a new, larger
// term, and the first holder's fence stops working once its term is over.
func ExampleLock_Acquire() {
	ctx := context.Background()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{UnsafeNoFsync: true})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	spec := func(id string) election.LeaseSpec {
		secs := int32(15)
		return election.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs}
	}
	a, _ := etcdlock.New(srv.Client(), "/locks/leader")
	b, _ := etcdlock.New(srv.Client(), "/locks/leader")
	backend := srv.Backend()

	fenceA, err := a.Acquire(ctx, spec("a"), election.Observation{})
	if err != nil {
		panic(err)
	}
	_, err = b.Acquire(ctx, spec("b"), election.Observation{})
	fmt.Println("b while a holds:", errors.Is(err, election.ErrHeld))
	rev, err := backend.Create(ctx, "/obj", []byte("from a"), fenceA)
	fmt.Println("a writes:", err)

	if err := a.Release(ctx); err != nil {
		panic(err)
	}
	fenceB, err := b.Acquire(ctx, spec("b"), election.Observation{})
	if err != nil {
		panic(err)
	}
	fmt.Println("new term is larger:", fenceB.CreateRevision > fenceA.CreateRevision)
	_, err = backend.Update(ctx, "/obj", []byte("late write from a"), rev, fenceA)
	fmt.Println("a's late write fenced:", errors.Is(err, store.ErrFenced))
	// Output:
	// b while a holds: true
	// a writes: <nil>
	// new term is larger: true
	// a's late write fenced: true
}
