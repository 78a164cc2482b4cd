package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTimeJSON(t *testing.T) {
	tm := NewTime(time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("x", 3600)))
	b, err := json.Marshal(tm)
	if err != nil || string(b) != `"2026-03-04T04:06:07Z"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Time
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tm.Time) {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	if b, _ := json.Marshal(Time{}); string(b) != "null" {
		t.Fatalf("zero Time = %s, want null", b)
	}
	if err := json.Unmarshal([]byte("null"), &back); err != nil || !back.IsZero() {
		t.Fatalf("null: %v, %v", back, err)
	}
	for _, bad := range []string{`12`, `"yesterday"`, `"2026-13-01T00:00:00Z"`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestObjectMetaJSONNames(t *testing.T) {
	yes := true
	del := NewTime(time.Unix(100, 0))
	m := ObjectMeta{
		Name: "n", GenerateName: "g", Namespace: "ns", UID: "u", ResourceVersion: "5", Generation: 2,
		CreationTimestamp: NewTime(time.Unix(50, 0)), DeletionTimestamp: &del,
		Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"c": "d"},
		OwnerReferences: []OwnerReference{{APIVersion: "v1", Kind: "K", Name: "o", UID: "ou", Controller: &yes}},
		Finalizers:      []string{"f"},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"name"`, `"generateName"`, `"namespace"`, `"uid"`, `"resourceVersion"`, `"generation"`, `"creationTimestamp"`, `"deletionTimestamp"`, `"labels"`, `"annotations"`, `"ownerReferences"`, `"finalizers"`, `"controller":true`} {
		if !strings.Contains(string(b), name) {
			t.Errorf("encoded metadata %s lacks %s", b, name)
		}
	}
	if c := m.ControllerOf(); c == nil || c.Name != "o" {
		t.Errorf("ControllerOf = %v", c)
	}
	if (&ObjectMeta{}).ControllerOf() != nil {
		t.Error("ControllerOf without owners is not nil")
	}
	if b, _ := json.Marshal(ObjectMeta{}); string(b) != "{}" {
		t.Errorf("empty metadata encodes as %s", b)
	}
}
