package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

func TestFieldMatcher(t *testing.T) {
	pods := []*api.Pod{
		{ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "x"}, Spec: api.PodSpec{NodeName: "n1"}, Status: api.PodStatus{Phase: api.PodRunning}},
		{ObjectMeta: store.ObjectMeta{Name: "b", Namespace: "x"}, Spec: api.PodSpec{}, Status: api.PodStatus{Phase: api.PodPending}},
		{ObjectMeta: store.ObjectMeta{Name: "c", Namespace: "y"}, Spec: api.PodSpec{NodeName: "n2", HostNetwork: true}, Status: api.PodStatus{Phase: api.PodRunning}},
	}
	match := func(sel string) string {
		f, err := PodKind.FieldFilter(sel)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		var names []string
		for _, p := range pods {
			if f == nil || f(p) {
				names = append(names, p.Name)
			}
		}
		return strings.Join(names, ",")
	}
	for sel, want := range map[string]string{
		"":                     "a,b,c",
		"spec.nodeName=":       "b",
		"spec.nodeName!=":      "a,c",
		"status.phase=Running": "a,c",
		"status.phase=Running,metadata.namespace=x": "a",
		"metadata.name!=a,status.phase!=Pending":    "c",
		"spec.hostNetwork=true":                     "c",
	} {
		if got := match(sel); got != want {
			t.Errorf("%q selects %q, want %q", sel, got, want)
		}
	}
	_, err := PodKind.FieldFilter("spec.containers=x")
	if !errors.Is(err, store.ErrFieldSelector) || !strings.Contains(err.Error(), `"spec.containers" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.hostNetwork"`) {
		t.Fatalf("unknown label: %v", err)
	}
	if _, err := NodeKind.FieldFilter("metadata.namespace=x"); err == nil {
		t.Fatal("cluster-scoped kinds have no metadata.namespace field")
	}
	f, err := EventKind.FieldFilter("involvedObject.kind=Pod,involvedObject.name=web,type=Warning")
	if err != nil {
		t.Fatal(err)
	}
	ev := &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Name: "web"}, Type: "Warning"}
	if !f(ev) || f(&api.Pod{}) {
		t.Fatal("event field filter")
	}
	if v, ok := PodKind.FieldValue(pods[0], "spec.nodeName"); !ok || v != "n1" {
		t.Fatal("FieldValue")
	}
}
