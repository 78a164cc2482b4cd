package deepcopy_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api/internal/deepcopy"
)

type Config struct {
	Name   string
	Labels map[string]string
	Ports  []int
}

func Example() {
	a := &Config{Name: "web", Labels: map[string]string{"app": "web"}, Ports: []int{80}}
	b := deepcopy.Copy(a)
	b.Labels["app"] = "db"
	b.Ports[0] = 5432
	fmt.Println(a.Labels["app"], a.Ports[0], b.Labels["app"], b.Ports[0])
	// Output: web 80 db 5432
}
