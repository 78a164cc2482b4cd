package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
	"github.com/setpoint-dev/setpoint/store/rest"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func Example() {
	st, _ := store.New[*storetest.Widget](memory.New(), storetest.WidgetResource)
	h, _ := rest.NewHandler(rest.Config[*storetest.Widget]{Store: st})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	srv := httptest.NewServer(h)
	defer srv.Close()

	c, _ := rest.NewClient[*storetest.Widget](srv.Client(), srv.URL, storetest.WidgetResource)
	w, err := c.Create(ctx, storetest.NewWidget("default", "hello", map[string]string{"app": "demo"}))
	fmt.Println(w.Name, w.Generation, err)
	_, err = c.Create(ctx, storetest.NewWidget("default", "hello", nil))
	fmt.Println(errors.Is(err, store.ErrAlreadyExists))
	l, _ := c.List(ctx, "default", store.ListOptions{})
	fmt.Println(len(l.Items))
	// Output:
	// hello 1 <nil>
	// true
	// 1
}
