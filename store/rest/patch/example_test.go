package patch_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type PodSpec struct {
	Containers []Container `json:"containers" patchStrategy:"merge" patchMergeKey:"name"`
}

type Pod struct {
	Labels map[string]string `json:"labels,omitempty"`
	Spec   PodSpec           `json:"spec"`
}

func Example() {
	doc := []byte(`{"labels":{"app":"web","old":"x"},"spec":{"containers":[{"name":"web","image":"nginx:1"},{"name":"log","image":"busybox:1"}]}}`)

	// kubectl apply: change one container's image by name, drop a label.
	out, err := patch.StrategicMergePatch(doc,
		[]byte(`{"labels":{"old":null},"spec":{"containers":[{"name":"log","image":"busybox:2"}]}}`),
		patch.SchemaFor[Pod]())
	fmt.Println(string(out), err)

	// The same change as a JSON merge patch replaces the whole list.
	out, err = patch.MergePatch(doc, []byte(`{"spec":{"containers":[{"name":"log","image":"busybox:2"}]}}`))
	fmt.Println(string(out), err)

	// A JSON patch names its failing operation.
	_, err = patch.JSONPatch(doc, []byte(`[{"op":"test","path":"/labels/app","value":"web"},{"op":"remove","path":"/spec/x"}]`))
	fmt.Println(err)
	// Output:
	// {"labels":{"app":"web"},"spec":{"containers":[{"image":"nginx:1","name":"web"},{"image":"busybox:2","name":"log"}]}} <nil>
	// {"labels":{"app":"web","old":"x"},"spec":{"containers":[{"image":"busybox:2","name":"log"}]}} <nil>
	// operation 1 (remove /spec/x): invalid patch: does not apply: /spec/x does not exist
}
