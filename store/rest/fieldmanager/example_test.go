package fieldmanager_test

import (
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
)

const schema = `{"definitions": {
  "Greeting": {
    "type": "object",
    "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Greeting"}],
    "properties": {
      "apiVersion": {"type": "string"},
      "kind": {"type": "string"},
      "metadata": {"type": "object", "properties": {"name": {"type": "string"}}},
      "spec": {"type": "object", "properties": {
        "text": {"type": "string"},
        "languages": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
      }}
    }
  }
}}`

func decode(s string) map[string]any {
	v, err := fieldmanager.DecodeJSON([]byte(s))
	if err != nil {
		panic(err)
	}
	return v.(map[string]any)
}

// Two managers apply one object: the second one's change of a field the
// first owns is a conflict until it forces it.
func Example() {
	types, err := fieldmanager.NewTypes([]byte(schema))
	if err != nil {
		panic(err)
	}
	typ, _ := types.Kind("example.com/v1", "Greeting")
	m, err := fieldmanager.New(fieldmanager.Config{APIVersion: "example.com/v1", Kind: "Greeting", Type: typ,
		Clock: clockwork.NewFakeClockAt(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))})
	if err != nil {
		panic(err)
	}
	head := `{"apiVersion":"example.com/v1","kind":"Greeting","metadata":{"name":"hi"},`
	live, fields, err := m.Apply(nil, decode(head+`"spec":{"text":"hello","languages":["en"]}}`), nil,
		fieldmanager.Operation{Manager: "alice"}, false)
	if err != nil {
		panic(err)
	}
	fmt.Println(fields[0].Manager, fields[0].Operation, fields[0].Time.Format(time.RFC3339), string(fields[0].FieldsV1.Raw))

	_, _, err = m.Apply(live, decode(head+`"spec":{"text":"bonjour","languages":["fr"]}}`), fields,
		fieldmanager.Operation{Manager: "bob"}, false)
	fmt.Println(err)

	live, fields, err = m.Apply(live, decode(head+`"spec":{"text":"bonjour","languages":["fr"]}}`), fields,
		fieldmanager.Operation{Manager: "bob"}, true)
	if err != nil {
		panic(err)
	}
	fmt.Println(live["spec"])
	for _, f := range fields {
		fmt.Println(f.Manager, string(f.FieldsV1.Raw))
	}
	// Output:
	// alice Apply 2025-01-02T03:04:05Z {"f:spec":{"f:languages":{"v:\"en\"":{}},"f:text":{}}}
	// Apply failed with 1 conflict: conflict with "alice": .spec.text
	// map[languages:[en fr] text:bonjour]
	// alice {"f:spec":{"f:languages":{"v:\"en\"":{}}}}
	// bob {"f:spec":{"f:languages":{"v:\"fr\"":{}},"f:text":{}}}
}
