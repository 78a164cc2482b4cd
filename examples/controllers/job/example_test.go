package job_test

import (
	"context"
	"fmt"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/job"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	cluster, err := controllertest.StartCluster()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Stop()
	cs := cluster.Client
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	ctl, err := job.New(job.Config{Client: cs})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go ctl.Run(ctx)

	mode := batch.IndexedCompletion
	two := int32(2)
	j := &batch.Job{}
	j.Namespace, j.Name = "default", "pi"
	j.Spec.Completions, j.Spec.Parallelism, j.Spec.CompletionMode = &two, &two, &mode
	j.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever
	j.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "busybox"}}
	created, err := cs.Jobs().Create(ctx, j)
	if err != nil {
		fmt.Println(err)
		return
	}
	rev, _ := store.ParseRevision(created.ResourceVersion)
	w, err := cs.Pods().Watch(ctx, "default", store.WatchOptions{AfterRevision: rev})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()
	seen := map[string]bool{}
	for ev := range w.Events() {
		seen[ev.Object.Annotations[batch.JobCompletionIndexAnnotation]] = true
		if len(seen) == 2 {
			break
		}
	}
	fmt.Println("indexes started:", seen["0"], seen["1"])
	// Output:
	// indexes started: true true
}
