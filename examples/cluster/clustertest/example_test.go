package clustertest_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/cluster/clustertest"
)

// A container for a test's pods: the test program serving HTTP on 8080
// until signalled. In a test, clustertest.Start(t, clustertest.Options{Nodes:
// 3}) gives a cluster whose nodes all hold clustertest.Image.
func ExampleContainer() {
	c := clustertest.Container("web", "http :8080", "wait")
	fmt.Println(c.Image, c.Args, c.ImagePullPolicy)
	// Output: setpoint.test/testbin:v1 [http :8080 wait] Never
}
