package api

import (
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
)

func TestLabelSelectorString(t *testing.T) {
	s := &LabelSelector{
		MatchLabels: map[string]string{"b": "2", "a": "1"},
		MatchExpressions: []LabelSelectorRequirement{
			{Key: "tier", Operator: LabelSelectorOpIn, Values: []string{"z", "x"}},
			{Key: "env", Operator: LabelSelectorOpNotIn, Values: []string{"dev"}},
			{Key: "gpu", Operator: LabelSelectorOpExists},
			{Key: "legacy", Operator: LabelSelectorOpDoesNotExist},
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
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: LabelSelectorOpIn}}},
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: LabelSelectorOpExists, Values: []string{"x"}}}},
		{MatchExpressions: []LabelSelectorRequirement{{Key: "a", Operator: "Near"}}},
		{MatchExpressions: []LabelSelectorRequirement{{Operator: LabelSelectorOpExists}}},
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
		{MatchExpressions: []LabelSelectorRequirement{{Key: "tier", Operator: LabelSelectorOpIn, Values: []string{"a", "b"}}, {Key: "x", Operator: LabelSelectorOpDoesNotExist}}},
		{MatchLabels: map[string]string{"app": "web"}, MatchExpressions: []LabelSelectorRequirement{{Key: "env", Operator: LabelSelectorOpNotIn, Values: []string{"dev"}}, {Key: "gpu", Operator: LabelSelectorOpExists}}},
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
