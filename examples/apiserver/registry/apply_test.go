package registry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
)

// TestApplyTypeOfEveryKind: every served kind has an apply type that
// accepts its empty and its defaulted sample objects, and whose lists
// merge as Kubernetes' do (containers by name).
func TestApplyTypeOfEveryKind(t *testing.T) {
	for _, d := range Kinds() {
		r := d.Resource()
		typ, err := ApplyType(r)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		obj := d.NewObject()
		if err := d.DefaultObject(obj); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(obj)
		v, err := fieldmanager.DecodeJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := typ.FromUnstructured(v); err != nil {
			t.Errorf("%s: a defaulted empty object does not fit its apply type: %v", r.Name, err)
		}
	}
	typ, err := ApplyType(PodKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	pod, _ := fieldmanager.DecodeJSON([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}`))
	tv, err := typ.FromUnstructured(pod)
	if err != nil {
		t.Fatal(err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := set.ToJSON()
	if want := `"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}`; !json.Valid(b) || !strings.Contains(string(b), want) {
		t.Fatalf("pod field set %s lacks %s", b, want)
	}
}
