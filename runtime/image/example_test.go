package image_test

import (
	"bytes"
	"fmt"

	"github.com/setpoint-dev/setpoint/runtime/image"
)

// Build a single-layer image holding one static binary and read it back.
func ExampleBuilder() {
	b := image.NewBuilder(image.Config{Name: "example.com/tool:v1", Entrypoint: []string{"/bin/tool"}})
	if err := b.AddBytes("/bin/tool", []byte("\x7fELF"), 0o755); err != nil {
		panic(err)
	}
	var archive bytes.Buffer
	if _, err := b.WriteTo(&archive); err != nil {
		panic(err)
	}
	infos, err := image.ReadArchive(&archive)
	if err != nil {
		panic(err)
	}
	fmt.Println(infos[0].Name, infos[0].Config.Entrypoint, infos[0].Files["/bin/tool"])
	// Output: example.com/tool:v1 [/bin/tool] -rwxr-xr-x
}
