package runtimetest_test

import (
	"bytes"
	"fmt"

	"github.com/setpoint-dev/setpoint/runtime/image"
	"github.com/setpoint-dev/setpoint/runtime/runtimetest"
)

// The test image holds the static test program; a container's arguments
// are a script for it.
func ExampleTestImageArchive() {
	archive, err := runtimetest.TestImageArchive()
	if err != nil {
		panic(err)
	}
	infos, err := image.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		panic(err)
	}
	fmt.Println(infos[0].Name, infos[0].Config.Entrypoint)
	fmt.Println(runtimetest.Script("print", "hello", "exit", "3"))
	// Output:
	// setpoint.test/testbin:v1 [/testbin]
	// [print hello exit 3]
}
