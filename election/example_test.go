package election_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// A candidate campaigns for a Lease in the typed store, leads with a fenced
// context, and gives the lock up when its context ends.
func Example() {
	backend := memory.New() // or the etcd backend
	defer backend.Close()
	leases, err := store.New[*election.Lease](backend, election.LeaseResource)
	if err != nil {
		panic(err)
	}
	lock, err := election.NewObjectLock(leases, "kube-system", "scheduler")
	if err != nil {
		panic(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
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
				// Every store write made with ctx is fenced by the term.
				fmt.Println("fenced:", len(store.FencesFrom(ctx)) == 1)
				cancel() // done with our work: step down
				<-ctx.Done()
			},
			OnStoppedLeading: func() { fmt.Println("stopped leading") },
		},
	})
	if err != nil {
		panic(err)
	}
	if err := el.Run(ctx); err != nil {
		panic(err)
	}
	_, err = leases.Get(context.Background(), "kube-system", "scheduler")
	fmt.Println("released:", err != nil)
	// Output:
	// leader: scheduler-1
	// fenced: true
	// stopped leading
	// released: true
}
