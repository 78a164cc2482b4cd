package storetest_test

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

// The suite's Widget type is an ordinary store object.
func ExampleWidget() {
	widgets, err := store.New[*storetest.Widget](memory.New(), storetest.WidgetResource)
	if err != nil {
		panic(err)
	}
	w, err := widgets.Create(context.Background(), storetest.NewWidget("ns", "w", map[string]string{"a": "b"}))
	if err != nil {
		panic(err)
	}
	fmt.Println(w.APIVersion, w.Kind, store.KeyOf(w), w.Generation)
	// Output: test.setpoint.dev/v1 Widget ns/w 1
}
