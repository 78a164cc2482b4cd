package store_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/storetest"
)

func TestParseFieldSelector(t *testing.T) {
	cases := []struct {
		in   string
		want store.FieldSelector
		str  string
	}{
		{"", nil, ""},
		{"spec.nodeName=node-1", store.FieldSelector{{"spec.nodeName", "=", "node-1"}}, "spec.nodeName=node-1"},
		{"spec.nodeName==node-1", store.FieldSelector{{"spec.nodeName", "=", "node-1"}}, "spec.nodeName=node-1"},
		{"spec.nodeName=", store.FieldSelector{{"spec.nodeName", "=", ""}}, "spec.nodeName="},
		{"status.phase!=Running,metadata.name=a", store.FieldSelector{{"status.phase", "!=", "Running"}, {"metadata.name", "=", "a"}}, "status.phase!=Running,metadata.name=a"},
		{`reason=a\,b\=c!d\\e`, store.FieldSelector{{"reason", "=", `a,b=c!d\e`}}, `reason=a\,b\=c!d\\e`},
		// The upstream grammar (issue 12 case 6): empty terms are skipped,
		// '!' in a value is a plain character.
		{"status.phase=Pending,", store.FieldSelector{{"status.phase", "=", "Pending"}}, "status.phase=Pending"},
		{",a=b,,c!=d,", store.FieldSelector{{"a", "=", "b"}, {"c", "!=", "d"}}, "a=b,c!=d"},
		{",", nil, ""},
		{"reason=Back!Off", store.FieldSelector{{"reason", "=", "Back!Off"}}, "reason=Back!Off"},
		{"reason!=!", store.FieldSelector{{"reason", "!=", "!"}}, "reason!=!"},
	}
	for _, c := range cases {
		got, err := store.ParseFieldSelector(c.in)
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
		if got.Empty() != (c.str == "") {
			t.Errorf("%q: Empty() = %v", c.in, got.Empty())
		}
	}
}

func TestParseFieldSelectorErrors(t *testing.T) {
	cases := map[string]string{
		"spec.nodeName":      "expected an operator",
		"=x":                 "missing field name",
		`a=b\x`:              `invalid escape sequence`,
		`a=b\`:               `lone backslash`,
		"a=b=c":              `unescaped '='`,
		"a=b!=c":             `unescaped '='`,
		"a b=c":              `may not contain spaces`,
		"status.phase!=a,,b": `term 2 "b"`,
		`reason=Back\!Off`:   `invalid escape sequence "\\!"`,
	}
	for in, want := range cases {
		_, err := store.ParseFieldSelector(in)
		if !errors.Is(err, store.ErrFieldSelector) || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFieldSelector(%q): err = %v, want one mentioning %q", in, err, want)
		}
	}
}

func widgetFields() store.Fields[*storetest.Widget] {
	f := store.MetadataFields[*storetest.Widget](true)
	f["spec.color"] = func(w *storetest.Widget) string { return w.Spec.Color }
	return f
}

func TestFieldsFilter(t *testing.T) {
	ws := []*storetest.Widget{
		{ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "x"}, Spec: storetest.WidgetSpec{Color: "red"}},
		{ObjectMeta: store.ObjectMeta{Name: "b", Namespace: "x"}},
		{ObjectMeta: store.ObjectMeta{Name: "c", Namespace: "y"}, Spec: storetest.WidgetSpec{Color: "red"}},
	}
	f := widgetFields()
	for sel, want := range map[string]string{
		"":                                    "a,b,c",
		"spec.color=":                         "b",
		"spec.color!=":                        "a,c",
		"spec.color=red,metadata.namespace=x": "a",
		"metadata.name!=a,spec.color==red":    "c",
	} {
		filter, err := f.Filter(sel)
		if err != nil {
			t.Fatalf("%q: %v", sel, err)
		}
		if (filter == nil) != (sel == "") {
			t.Fatalf("%q: nil filter %v", sel, filter == nil)
		}
		var names []string
		for _, w := range ws {
			if filter == nil || filter(w) {
				names = append(names, w.Name)
			}
		}
		if got := strings.Join(names, ","); got != want {
			t.Errorf("%q selects %q, want %q", sel, got, want)
		}
	}
	filter, _ := f.Filter("metadata.name=a")
	if filter(&plainObject{ObjectMeta: store.ObjectMeta{Name: "a"}}) {
		t.Error("an object of another type matched")
	}
	_, err := f.Filter("spec.size=1")
	if !errors.Is(err, store.ErrFieldSelector) || !strings.Contains(err.Error(), `"spec.size" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.color"`) {
		t.Fatalf("unknown label: %v", err)
	}
	if _, err := store.MetadataFields[*storetest.Widget](false).Filter("metadata.namespace=x"); !errors.Is(err, store.ErrFieldSelector) {
		t.Fatalf("cluster-scoped resources have no metadata.namespace field: %v", err)
	}
	if _, err := f.Filter("a=b=c"); !errors.Is(err, store.ErrFieldSelector) {
		t.Fatalf("malformed selector: %v", err)
	}
}

type plainObject struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
}

// FuzzParseFieldSelector: whatever parses prints canonically and parses
// back to the same requirements; whatever fails wraps ErrFieldSelector.
func FuzzParseFieldSelector(f *testing.F) {
	for _, s := range []string{"spec.nodeName=", "a==b,c!=d", `x=a\,b\=c!d\\`, "=", "a", `a=\q`, "a!=b!=c", "a=b,", ",,", `a=b\!`, "a=!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := store.ParseFieldSelector(s)
		if err != nil {
			if !errors.Is(err, store.ErrFieldSelector) {
				t.Fatalf("error does not wrap ErrFieldSelector: %v", err)
			}
			return
		}
		again, err := store.ParseFieldSelector(sel.String())
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

// TestParseFieldSelectorAgainstModel: random terms whose values hold every
// special character are written out as the upstream grammar allows (values
// escaped with \ before \ , and =, "==" for "=", empty terms anywhere) and
// must parse to exactly those terms; a value with an unescaped '=' or an
// unknown escape must be refused.
func TestParseFieldSelectorAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 15))
	alphabet := []string{"a", "B", "1", "-", ".", "!", ",", "=", `\`, " ", "é"}
	escape := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`)
	for i := range 20000 {
		var want store.FieldSelector
		var parts []string
		bad := false
		for range rng.IntN(4) {
			var v strings.Builder
			for range rng.IntN(6) {
				v.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			field := []string{"spec.nodeName", "status.phase", "metadata.name", "reason"}[rng.IntN(4)]
			op := []string{"=", "==", "!="}[rng.IntN(3)]
			text := escape.Replace(v.String())
			switch rng.IntN(10) {
			case 0:
				text = "x=" + text // an unescaped '='

				bad = true
			case 1:
				text += `\!` // not an escape
				bad = true
			}
			for rng.IntN(3) == 0 {
				parts = append(parts, "")
			}
			parts = append(parts, field+op+text)
			if op == "==" {
				op = "="
			}
			want = append(want, store.FieldRequirement{Field: field, Op: op, Value: v.String()})
		}
		in := strings.Join(parts, ",")
		got, err := store.ParseFieldSelector(in)
		if bad {
			if !errors.Is(err, store.ErrFieldSelector) {
				t.Fatalf("case %d: ParseFieldSelector(%q) = %v, %v; want an error", i, in, got, err)
			}
			continue
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("case %d: ParseFieldSelector(%q) = %v, %v; want %v", i, in, got, err, want)
		}
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("case %d: ParseFieldSelector(%q) term %d = %+v, want %+v", i, in, j, got[j], want[j])
			}
		}
	}
}
