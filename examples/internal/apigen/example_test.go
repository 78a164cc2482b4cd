package apigen_test

import (
	"fmt"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/internal/apigen"
)

// Example generates one small Kubernetes type from in-memory facts and
// descriptions.
func Example() {
	facts := &apigen.Facts{
		Packages: []*apigen.FactPackage{{Key: "apps/v1", GoPath: "k8s.io/api/apps/v1", Group: "apps", Version: "v1"}},
		Types: []*apigen.FactType{{
			Pkg: "apps/v1", Name: "RollingUpdateStatefulSetStrategy", Kind: "struct", ProtoMessage: "RollingUpdateStatefulSetStrategy",
			Fields: []*apigen.FactField{{
				Name: "Partition", Type: "*int32", ProtoNumber: 1,
				Tag: `json:"partition,omitempty" protobuf:"varint,1,opt,name=partition"`,
			}},
		}},
	}
	desc := apigen.Descriptions{
		"apps/v1.RollingUpdateStatefulSetStrategy":           "the limits of a stateful set's rolling update",
		"apps/v1.RollingUpdateStatefulSetStrategy.partition": "the ordinal below which pods keep the old template",
	}
	files, err := apigen.Generate(facts, desc, apigen.Config{ImportPath: "example.com/out"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println(strings.Join(names, "\n"))
	src := string(files["api/apps/zz_generated.types.go"])
	fmt.Println(strings.Contains(src, "// Partition is the ordinal below which pods keep the old template."))
	// Output:
	// api/apps/zz_generated.doc.go
	// api/apps/zz_generated.proto.go
	// api/apps/zz_generated.types.go
	// true
}
