package deepcopygen_test

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen"
)

type Widget struct {
	Name string
	Tags []string
}

func Example() {
	src, err := deepcopygen.Generate("deepcopygen_test", "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopygen_test",
		[]reflect.Type{reflect.TypeFor[Widget]()}, nil)
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "func ") {
			fmt.Println(line)
		}
	}
	// Output:
	// func (in *Widget) DeepCopy() *Widget {
	// func deepCopyWidget(in, out *Widget) {
}
