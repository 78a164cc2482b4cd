package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

func TestParseFieldSelector(t *testing.T) {
	cases := []struct {
		in   string
		want FieldSelector
		str  string
	}{
		{"", nil, ""},
		{"spec.nodeName=node-1", FieldSelector{{"spec.nodeName", "=", "node-1"}}, "spec.nodeName=node-1"},
		{"spec.nodeName==node-1", FieldSelector{{"spec.nodeName", "=", "node-1"}}, "spec.nodeName=node-1"},
		{"spec.nodeName=", FieldSelector{{"spec.nodeName", "=", ""}}, "spec.nodeName="},
		{"status.phase!=Running,metadata.name=a", FieldSelector{{"status.phase", "!=", "Running"}, {"metadata.name", "=", "a"}}, "status.phase!=Running,metadata.name=a"},
		{`reason=a\,b\=c\!d\\e`, FieldSelector{{"reason", "=", `a,b=c!d\e`}}, `reason=a\,b\=c\!d\\e`},
	}
	for _, c := range cases {
		got, err := ParseFieldSelector(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			}
		}
		if got.String() != c.str {
			t.Errorf("%q: String() = %q, want %q", c.in, got.String(), c.str)
		}
	}
}

func TestParseFieldSelectorErrors(t *testing.T) {
	cases := map[string]string{
		"spec.nodeName":        "expected an operator",
		"=x":                   "missing field name",
		"a=b,":                 `term 1 ""`,
		`a=b\x`:                `invalid escape sequence`,
		`a=b\`:                 `lone backslash`,
		"a=b=c":                `unescaped '='`,
		"a b=c":                `may not contain spaces`,
		"status.phase!=a,,b=c": `term 1`,
	}
	for in, want := range cases {
		_, err := ParseFieldSelector(in)
		if !errors.Is(err, ErrFieldSelector) || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFieldSelector(%q): err = %v, want one mentioning %q", in, err, want)
		}
	}
}

func TestFieldMatcher(t *testing.T) {
	pods := []*Pod{
		{ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "x"}, Spec: PodSpec{NodeName: "n1"}, Status: PodStatus{Phase: PodRunning}},
		{ObjectMeta: store.ObjectMeta{Name: "b", Namespace: "x"}, Spec: PodSpec{}, Status: PodStatus{Phase: PodPending}},
		{ObjectMeta: store.ObjectMeta{Name: "c", Namespace: "y"}, Spec: PodSpec{NodeName: "n2", HostNetwork: true}, Status: PodStatus{Phase: PodRunning}},
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
	if !errors.Is(err, ErrFieldSelector) || !strings.Contains(err.Error(), `"spec.containers" is not a known field selector for pods: only "metadata.name", "metadata.namespace", "spec.hostNetwork"`) {
		t.Fatalf("unknown label: %v", err)
	}
	if _, err := NodeKind.FieldFilter("metadata.namespace=x"); err == nil {
		t.Fatal("cluster-scoped kinds have no metadata.namespace field")
	}
	f, err := EventKind.FieldFilter("involvedObject.kind=Pod,involvedObject.name=web,type=Warning")
	if err != nil {
		t.Fatal(err)
	}
	ev := &Event{InvolvedObject: ObjectReference{Kind: "Pod", Name: "web"}, Type: EventWarning}
	if !f(ev) || f(&Pod{}) {
		t.Fatal("event field filter")
	}
	if v, ok := PodKind.FieldValue(pods[0], "spec.nodeName"); !ok || v != "n1" {
		t.Fatal("FieldValue")
	}
}

func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range []string{"spec.nodeName=", "a==b,c!=d", `x=a\,b\=c\!d\\`, "=", "a", `a=\q`, "a!=b!=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseFieldSelector(s)
		if err != nil {
			if !errors.Is(err, ErrFieldSelector) {
				t.Fatalf("error does not wrap ErrFieldSelector: %v", err)
			}
			return
		}
		again, err := ParseFieldSelector(sel.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", sel.String(), s, err)
		}
		if again.String() != sel.String() || len(again) != len(sel) {
			t.Fatalf("%q -> %q -> %q", s, sel.String(), again.String())
		}
		for i := range sel {
			if sel[i] != again[i] {
				t.Fatalf("term %d changed: %v -> %v", i, sel[i], again[i])
			}
		}
	})
}

func TestLabelSelectorString(t *testing.T) {
	s := &LabelSelector{
		MatchLabels: map[string]string{"b": "2", "a": "1"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "tier", Operator: OpIn, Values: []string{"z", "x"}},
			{Key: "env", Operator: OpNotIn, Values: []string{"dev"}},
			{Key: "gpu", Operator: OpExists},
			{Key: "legacy", Operator: OpDoesNotExist},
		},
	}
	got, err := s.SelectorString()
	if err != nil {
		t.Fatal(err)
	}
	if want := "a=1,b=2,tier in (x,z),env notin (dev),gpu,!legacy"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	labels := map[string]string{"a": "1", "b": "2", "tier": "x", "env": "prod", "gpu": ""}
	if !s.Matches(labels) {
		t.Fatal("should match")
	}
	labels["legacy"] = "y"
	if s.Matches(labels) {
		t.Fatal("DoesNotExist ignored")
	}
	if e, _ := (&LabelSelector{}).SelectorString(); e != "" {
		t.Fatal("empty selector should give empty text")
	}
	if !(&LabelSelector{}).Matches(nil) || (*LabelSelector)(nil).Matches(nil) {
		t.Fatal("empty matches all; nil matches nothing")
	}
	for _, bad := range []*LabelSelector{
		nil,
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: OpIn}}},
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: OpExists, Values: []string{"x"}}}},
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Near"}}},
		{MatchExpressions: []LabelSelectorRequirement{{Operator: OpExists}}},
	} {
		if _, err := bad.SelectorString(); !errors.Is(err, ErrSelector) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

// The store selector built from a LabelSelector matches exactly the label
// sets the LabelSelector itself matches.
func TestLabelSelectorToStoreSelector(t *testing.T) {
	sels := []*LabelSelector{
		{},
		{MatchLabels: map[string]string{"app": "web"}},
		{MatchLabels: map[string]string{"app": "web", "empty": ""}},
		{MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: OpIn, Values: []string{"a", "b"}}, {Key: "x", Operator: OpDoesNotExist}}},
		{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []LabelSelectorRequirement{{Key: "env", Operator: OpNotIn, Values: []string{"dev"}}, {Key: "gpu", Operator: OpExists}}},
	}
	sets := []map[string]string{
		nil, {"app": "web"}, {"app": "web", "empty": ""}, {"app": "db"}, {"tier": "a"}, {"tier": "c"}, {"tier": "b", "x": "1"},
		{"app": "web", "env": "prod", "gpu": "1"}, {"app": "web", "env": "dev", "gpu": "1"}, {"app": "web", "gpu": ""},
	}
	for _, ls := range sels {
		s, err := ls.Selector()
		if err != nil {
			t.Fatalf("%+v: %v", ls, err)
		}
		for _, set := range sets {
			if s.Matches(set) != ls.Matches(set) {
				t.Errorf("selector %q and %+v disagree on %v", s.String(), ls, set)
			}
		}
	}
	if _, err := (&LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}).Selector(); !errors.Is(err, ErrSelector) {
		t.Errorf("bad key: err = %v", err)
	}
}

func TestStoreCloneUsesDeepCopy(t *testing.T) {
	p := loadFixture[Pod](t, "pod.json")
	c := store.Clone(p)
	if c == p || !deepEqual(c, p) {
		t.Fatal("Clone is not an equal private copy")
	}
	c.Labels["app"] = "changed"
	if p.Labels["app"] != "web" {
		t.Fatal("Clone shares the labels map")
	}
}
