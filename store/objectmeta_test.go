package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/memory"
)

// TestDeletionGracePeriodIsServerOwned: like deletionTimestamp, a client
// cannot set deletionGracePeriodSeconds on create or change it on update.
func TestDeletionGracePeriodIsServerOwned(t *testing.T) {
	ctx := context.Background()
	pods, err := store.New[*Pod](memory.New(), podResource)
	if err != nil {
		t.Fatal(err)
	}
	grace := int64(30)
	p, err := pods.Create(ctx, &Pod{ObjectMeta: store.ObjectMeta{Namespace: "ns", Name: "p", DeletionGracePeriodSeconds: &grace}})
	if err != nil {
		t.Fatal(err)
	}
	if p.DeletionGracePeriodSeconds != nil {
		t.Fatalf("create kept deletionGracePeriodSeconds %d", *p.DeletionGracePeriodSeconds)
	}
	p.DeletionGracePeriodSeconds = &grace
	p.Spec.Image = "x"
	u, err := pods.Update(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if u.DeletionGracePeriodSeconds != nil {
		t.Fatalf("update set deletionGracePeriodSeconds %d", *u.DeletionGracePeriodSeconds)
	}
}

// TestManagedFieldsJSON: managedFields keep Kubernetes' JSON shape, with
// fieldsV1 passed through as raw JSON.
func TestManagedFieldsJSON(t *testing.T) {
	in := `{"name":"p","managedFields":[{"manager":"kubectl","operation":"Apply","apiVersion":"v1","time":"2025-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{}}}}]}`
	var m store.ObjectMeta
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.ManagedFields) != 1 || m.ManagedFields[0].Manager != "kubectl" || string(m.ManagedFields[0].FieldsV1.Raw) != `{"f:metadata":{"f:labels":{}}}` {
		t.Fatalf("decoded %+v", m.ManagedFields)
	}
	out, err := json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("JSON round trip changed managedFields:\n%s", d)
	}
	var empty store.FieldsV1
	if b, _ := json.Marshal(empty); string(b) != "null" {
		t.Fatalf("empty FieldsV1 encodes as %s", b)
	}
}
