package controllerutil_test

import (
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/controllers/controllerutil"
)

// A controller records what it is about to create and acts again only
// once its cache has shown all of it.
func ExampleExpectations() {
	exp := controllerutil.NewExpectations(clockwork.NewFakeClock())
	exp.ExpectCreations("default/web", 2)
	fmt.Println("may act:", exp.Satisfied("default/web"))
	exp.CreationObserved("default/web") // the informer saw one pod
	exp.CreationObserved("default/web") // and the other
	fmt.Println("may act:", exp.Satisfied("default/web"))
	// Output:
	// may act: false
	// may act: true
}
