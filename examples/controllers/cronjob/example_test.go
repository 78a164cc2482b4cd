package cronjob_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api/batch"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/cronjob"
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
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	clk := clockwork.NewFakeClockAt(time.Now())
	ctl, err := cronjob.New(cronjob.Config{Client: cs, Clock: clk})
	if err != nil {
		fmt.Println(err)
		return
	}
	go cs.Informers().Run(ctx)
	go ctl.Run(ctx)

	cj := newCronJob("hourly", batch.ForbidConcurrent)
	cj.Spec.Schedule = "@hourly"
	if _, err := cs.CronJobs().Create(ctx, cj); err != nil {
		fmt.Println(err)
		return
	}
	for {
		l, _ := cs.Jobs().List(ctx, "default", store.ListOptions{})
		if len(l.Items) > 0 {
			at, _ := time.Parse(time.RFC3339, l.Items[0].Annotations[cronjob.ScheduledTimeAnnotation])
			fmt.Println("a job on the hour:", at.Minute() == 0 && at.Second() == 0)
			break
		}
		clk.Advance(time.Minute) // an hour passes in 60 steps
		time.Sleep(10 * time.Millisecond)
	}
	// Output:
	// a job on the hour: true
}
