package store

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSelectorCanonical(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"a=b", "a=b"},
		{"a==b", "a=b"},
		{"a = b ,  c != d", "a=b,c!=d"},
		{"e in (y, x),e notin (x)", "e in (x,y),e notin (x)"},
		{"e in (x,x,y)", "e in (x,y)"},
		{"!f", "!f"},
		{"f", "f"},
		{"z,a", "a,z"},
		{"a=", "a="},
		{"example.com/role=db,app.kubernetes.io/name in (web)", "app.kubernetes.io/name in (web),example.com/role=db"},
		{"a=b,a=b", "a=b"},
		{"a=b,c!=d,e in (x,y),e notin (x),!f,f", "a=b,c!=d,e in (x,y),e notin (x),!f,f"},
		// The upstream grammar (issue 12 case 5): empty values, empty
		// sets, keywords as keys and values, > and < on integers.
		{"a in ()", "a in ()"},
		{"a notin ( )", "a notin ()"},
		{"a in (,x)", "a in (,x)"},
		{"a in (x,)", "a in (,x)"},
		{"a in (x,,y)", "a in (,x,y)"},
		{"a in (,)", "a in ()"},
		{"a=,b", "a=,b"},
		{"rank>2", "rank>2"},
		{"rank < 10", "rank<10"},
		{"rank>007", "rank>007"},
		{"in=x", "in=x"},
		{"notin in (in,notin)", "notin in (in,notin)"},
		{"!in,notin", "!in,notin"},
		{"a in(x)", "a in (x)"},
		{"a\r\n=\tb", "a=b"},
	}
	for _, c := range cases {
		s, err := ParseSelector(c.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", c.in, err)
			continue
		}
		if got := s.String(); got != c.want {
			t.Errorf("ParseSelector(%q).String() = %q, want %q", c.in, got, c.want)
		}
		if s.Empty() != (c.want == "") {
			t.Errorf("ParseSelector(%q).Empty() = %v", c.in, s.Empty())
		}
	}
}

func TestParseSelectorErrors(t *testing.T) {
	cases := []struct {
		in   string
		pos  int
		want string
	}{
		{",", 0, "expected a label key"},
		{"a=b,", 4, "expected a label key or '!' after ',', found end"},
		{"a b", 2, "expected an operator"},
		{"a=b c", 4, "expected ',' or end"},
		{"a in x", 5, "expected '(' after"},
		{"a in (", 6, "expected a value, ',' or ')'"},
		{"a in (x,", 8, "expected a value, ',' or ')'"},
		{"a in (x)(", 8, "expected ',' or end"},
		{"a in ((", 6, "expected a value"},
		{"rank>", 5, "must be an integer"},
		{"rank>x", 5, "must be an integer"},
		{"rank<1.5", 5, "must be an integer"},
		{"rank>-1", 5, "invalid label value"},
		{"rank>=1", 5, "expected a value"},
		{"a===b", 3, "expected a value"},
		{"a=(b)", 2, "expected a value"},
		{"a ! b", 2, "expected an operator"},
		{"a in (x)y", 8, "expected ',' or end"},
		{",a", 0, "expected a label key or '!'"},
		{"Bad Key=x", 4, "expected an operator"},
		{"a=bad value!", 6, "expected ',' or end"},
		{"a in (bad!)", 9, "expected ',' or ')'"},
		{"a in (x", 7, "expected ',' or ')'"},
		{"a in (x y)", 8, "expected ',' or ')'"},
		{"a=b=c", 3, "expected ',' or end"},
		{"-a=b", 0, "invalid label key"},
		{"a=-b", 2, "invalid label value"},
		{"a=" + strings.Repeat("x", 64), 2, "no more than 63"},
		{"!", 1, "expected a label key"},
		{"!a=b", 2, "expected ',' or end"},
		{"a/b/c=d", 0, "invalid label key"},
		{"(a)", 0, "expected a label key"},
		{"a notin", 7, "expected '(' after"},
	}
	for _, c := range cases {
		_, err := ParseSelector(c.in)
		if err == nil {
			t.Errorf("ParseSelector(%q) succeeded, want an error", c.in)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSelector(%q): %v does not wrap ErrInvalid", c.in, err)
		}
		var se *SelectorError
		if !errors.As(err, &se) {
			t.Errorf("ParseSelector(%q): %T is not a *SelectorError", c.in, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Msg, c.want) {
			t.Errorf("ParseSelector(%q) = position %d %q, want position %d containing %q", c.in, se.Pos, se.Msg, c.pos, c.want)
		}
	}
}

func TestSelectorMatches(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front", "empty": "", "rank": "5"}
	cases := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"app=web", true},
		{"app==db", false},
		{"app!=db", true},
		{"missing!=x", true},
		{"app in (db,web)", true},
		{"app in (db)", false},
		{"missing in (x)", false},
		{"app notin (db)", true},
		{"app notin (web)", false},
		{"missing notin (x)", true},
		{"app", true},
		{"missing", false},
		{"!missing", true},
		{"!app", false},
		{"empty=", true},
		{"empty", true},
		{"app=web,tier=back", false},
		{"app=web,tier=front,!missing", true},
		{"empty in ()", true},
		{"empty notin ()", false},
		{"app notin ()", true},
		{"missing notin ()", true},
		{"missing in ()", false},
		{"tier in (,front)", true},
		{"rank>2", true},
		{"rank>5", false},
		{"rank<6,rank>4", true},
		{"rank<5", false},
		{"app>1", false}, // not an integer
		{"missing<1", false},
	}
	for _, c := range cases {
		s, err := ParseSelector(c.sel)
		if err != nil {
			t.Fatalf("ParseSelector(%q): %v", c.sel, err)
		}
		if got := s.Matches(labels); got != c.want {
			t.Errorf("%q.Matches(%v) = %v, want %v", c.sel, labels, got, c.want)
		}
	}
	if !(Selector{}).Matches(nil) {
		t.Error("the zero selector does not match nil labels")
	}
}

func TestSelectorFromSet(t *testing.T) {
	s := SelectorFromSet(map[string]string{"b": "2", "a": "1"})
	if got := s.String(); got != "a=1,b=2" {
		t.Fatalf("String() = %q, want a=1,b=2", got)
	}
	if !s.Matches(map[string]string{"a": "1", "b": "2", "c": "3"}) || s.Matches(map[string]string{"a": "1"}) {
		t.Fatal("SelectorFromSet matches wrongly")
	}
	if !SelectorFromSet(nil).Empty() {
		t.Fatal("SelectorFromSet(nil) is not empty")
	}
	p, err := ParseSelector(s.String())
	if err != nil || !p.Equal(s) {
		t.Fatalf("re-parse = %v, %v; want equal", p, err)
	}
	// Requirements returns a copy.
	r := s.Requirements()
	r[0].Values[0] = "changed"
	if s.String() != "a=1,b=2" {
		t.Fatal("Requirements exposes the selector's storage")
	}
}

func FuzzParseSelector(f *testing.F) {
	for _, seed := range []string{
		"", "a=b", "a==b,c!=d", "e in (x,y),e notin (x)", "!f,f", "a=", "a in (,x)",
		"example.com/role=db", "a b", "a in ()", "a in (x", "!", ",", "in=x", "a=b=c",
		"  a  =  b  ", "a\tin\t(x)", "a!=", "x/y=z,!p/q", "rank>2", "a<-1", "a in (x,,)", "a!==b", "a notin ()",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSelector(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSelector(%q): error %v does not wrap ErrInvalid", in, err)
			}
			var se *SelectorError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(in) {
				t.Fatalf("ParseSelector(%q): bad error position in %v", in, err)
			}
			return
		}
		out := s.String()
		s2, err := ParseSelector(out)
		if err != nil {
			t.Fatalf("ParseSelector(%q).String() = %q does not re-parse: %v", in, out, err)
		}
		if !s2.Equal(s) || s2.String() != out {
			t.Fatalf("re-parse of %q (from %q) = %q, not equal", out, in, s2.String())
		}
	})
}
