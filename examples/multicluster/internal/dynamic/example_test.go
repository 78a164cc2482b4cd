package dynamic_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
)

// RefOf reads which object a manifest is; one without a name is refused.
func ExampleRefOf() {
	r, err := dynamic.RefOf([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"}}`))
	fmt.Println(r, err)
	_, err = dynamic.RefOf([]byte(`{"apiVersion":"v1","kind":"ConfigMap"}`))
	fmt.Println(err)
	// Output:
	// Deployment shop/web <nil>
	// invalid: an object needs apiVersion, kind and metadata.name
}
