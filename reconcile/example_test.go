package reconcile_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpoint-dev/setpoint/reconcile"
)

// A controller that reconciles object keys: keys added several times before
// they are reconciled are reconciled once, and a failed reconcile is retried.
func Example() {
	failed := false
	results := make(chan string, 10)
	ctrl, err := reconcile.New(reconcile.Config[reconcile.Request]{
		Name: "example",
		Reconciler: reconcile.Func[reconcile.Request](func(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
			if key.Name == "flaky" && !failed {
				failed = true
				results <- "failed " + key.String()
				return reconcile.Result{}, errors.New("try again")
			}
			results <- "reconciled " + key.String()
			return reconcile.Result{}, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := ctrl.Queue()
	q.Add(reconcile.Request{Namespace: "default", Name: "a"})
	q.Add(reconcile.Request{Namespace: "default", Name: "a"})
	q.Add(reconcile.Request{Namespace: "default", Name: "flaky"})
	q.Add(reconcile.Request{Name: "cluster-wide"})

	// Run runs until its context ends; with leader election, pass the
	// context the election gives the leader.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- ctrl.Run(ctx) }()
	for range 4 {
		fmt.Println(<-results)
	}
	cancel()
	fmt.Println("stopped:", <-stopped)
	// Output:
	// reconciled default/a
	// failed default/flaky
	// reconciled cluster-wide
	// reconciled default/flaky
	// stopped: <nil>
}
