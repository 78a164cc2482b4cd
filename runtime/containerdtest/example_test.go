package containerdtest_test

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/client"

	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
)

// Start a private daemon, talk to it, stop it.
func Example() {
	ctx := context.Background()
	d, err := containerdtest.Start(ctx)
	if err != nil {
		fmt.Println(err) // names the install command when containerd is missing
		return
	}
	defer d.Stop()
	c, err := client.New(d.Address)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	serving, err := c.IsServing(ctx)
	fmt.Println("serving:", serving, err)
	// Output: serving: true <nil>
}
