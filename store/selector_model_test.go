package store

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A model of the Kubernetes label selector grammar (labels.Parse): random
// requirements are written out in every spelling the grammar allows
// (blanks, "=" or "==", empty values as empty places in a set, "()" for
// the set of the empty value, duplicates, keywords as keys and values), and
// ParseSelector must accept exactly the valid ones, with exactly the
// model's requirements, and match labels as the model does.

type modelReq struct {
	key  string
	op   Operator
	vals []string // for In/NotIn a set (order and duplicates as written)
}

var (
	modelKeys        = []string{"a", "tier", "in", "notin", "x.y/z", "app.kubernetes.io/name", "k8s.io/x", "A_b-9"}
	modelBadKeys     = []string{"-a", "a/b/c", "a$", strings.Repeat("k", 64), "/a", "a/", "Ab.c/d"}
	modelValues      = []string{"", "web", "in", "notin", "1", "42", "x.y_z-1", "007"}
	modelBadValues   = []string{"-x", "x-", "a$b", strings.Repeat("v", 64), "_x"}
	modelInts        = []string{"0", "1", "42", "9223372036854775807", "007"}
	modelBadInts     = []string{"", "x", "1.5", "99999999999999999999"}
	modelLabelValues = []string{"", "web", "in", "1", "42", "5", "007", "x", "-3"}
)

// modelMatches is the model's meaning of one requirement.
func (r modelReq) matches(labels map[string]string) bool {
	v, ok := labels[r.key]
	switch r.op {
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	case Equals, In:
		return ok && slices.Contains(r.vals, v)
	case NotEquals, NotIn:
		return !ok || !slices.Contains(r.vals, v)
	case GreaterThan, LessThan:
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.vals[0], 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return false
		}
		if r.op == GreaterThan {
			return have > want
		}
		return have < want
	}
	panic("unknown op " + r.op)
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// genReq makes a random requirement; bad is set when it uses an invalid key
// or value (then the whole selector must be rejected).
func genReq(rng *rand.Rand) (r modelReq, bad bool) {
	r.key = pick(rng, modelKeys)
	if rng.IntN(12) == 0 {
		r.key, bad = pick(rng, modelBadKeys), true
	}
	value := func() string {
		if rng.IntN(15) == 0 {
			bad = true
			return pick(rng, modelBadValues)
		}
		return pick(rng, modelValues)
	}
	switch rng.IntN(7) {
	case 0:
		r.op = Exists
	case 1:
		r.op = DoesNotExist
	case 2:
		r.op, r.vals = Equals, []string{value()}
	case 3:
		r.op, r.vals = NotEquals, []string{value()}
	case 4, 5:
		r.op = In
		if rng.IntN(2) == 0 {
			r.op = NotIn
		}
		for range 1 + rng.IntN(4) {
			r.vals = append(r.vals, value())
		}
	case 6:
		r.op = GreaterThan
		if rng.IntN(2) == 0 {
			r.op = LessThan
		}
		v := pick(rng, modelInts)
		if rng.IntN(8) == 0 {
			v, bad = pick(rng, modelBadInts), true
		}
		r.vals = []string{v}
	}
	return r, bad
}

func blank(rng *rand.Rand, required bool) string {
	b := pick(rng, []string{"", "", " ", "\t", "  ", "\n"})
	if required && b == "" {
		b = " "
	}
	return b
}

// render writes r in one of the spellings the grammar allows.
func render(rng *rand.Rand, r modelReq) string {
	b := func() string { return blank(rng, false) }
	switch r.op {
	case Exists:
		return b() + r.key + b()
	case DoesNotExist:
		return b() + "!" + b() + r.key + b()
	case Equals:
		return b() + r.key + b() + pick(rng, []string{"=", "=="}) + b() + r.vals[0] + b()
	case NotEquals:
		return b() + r.key + b() + "!=" + b() + r.vals[0] + b()
	case GreaterThan:
		return b() + r.key + b() + ">" + b() + r.vals[0] + b()
	case LessThan:
		return b() + r.key + b() + "<" + b() + r.vals[0] + b()
	}
	// A set: written in a random order, with duplicates; the empty value
	// is an empty place (which "()" also is).
	word := " in"
	if r.op == NotIn {
		word = " notin"
	}
	vals := slices.Clone(r.vals)
	if rng.IntN(3) == 0 {
		vals = append(vals, pick(rng, vals))
	}
	rng.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	var parts []string
	for _, v := range vals {
		parts = append(parts, b()+v+b())
	}
	return b() + r.key + blank(rng, true) + word[1:] + b() + "(" + strings.Join(parts, ",") + ")" + b()
}

func canonical(reqs []modelReq) []Requirement {
	out := make([]Requirement, 0, len(reqs))
	for _, r := range reqs {
		vals := slices.Clone(r.vals)
		slices.Sort(vals)
		out = append(out, Requirement{Key: r.key, Op: r.op, Values: slices.Compact(vals)})
	}
	return newSelector(out).Requirements()
}

func TestParseSelectorAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 5))
	accepted, rejected := 0, 0
	for i := range 20000 {
		n := rng.IntN(4)
		var reqs []modelReq
		bad := false
		var parts []string
		for range n {
			r, b := genReq(rng)
			reqs, bad = append(reqs, r), bad || b
			parts = append(parts, render(rng, r))
		}
		text := strings.Join(parts, ",")
		if n == 0 {
			text = blank(rng, false)
		}
		sel, err := ParseSelector(text)
		if bad {
			if err == nil {
				t.Fatalf("case %d: ParseSelector(%q) accepted a selector with an invalid key or value", i, text)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("case %d: ParseSelector(%q): %v does not wrap ErrInvalid", i, text, err)
			}
			rejected++
			continue
		}
		if err != nil {
			t.Fatalf("case %d: ParseSelector(%q): %v", i, text, err)
		}
		accepted++
		want := canonical(reqs)
		if got := sel.Requirements(); !slices.EqualFunc(got, want, Requirement.equal) {
			t.Fatalf("case %d: ParseSelector(%q) = %v, want %v", i, text, got, want)
		}
		for range 8 {
			labels := map[string]string{}
			for range rng.IntN(4) {
				labels[pick(rng, modelKeys)] = pick(rng, modelLabelValues)
			}
			want := true
			for _, r := range reqs {
				want = want && r.matches(labels)
			}
			if got := sel.Matches(labels); got != want {
				t.Fatalf("case %d: %q.Matches(%v) = %v, the model says %v", i, text, labels, got, want)
			}
		}
		// The canonical text is itself in the grammar and means the same.
		again, err := ParseSelector(sel.String())
		if err != nil || !again.Equal(sel) {
			t.Fatalf("case %d: %q re-parsed from %q: %v, %v", i, sel.String(), text, again, err)
		}
	}
	if accepted < 1000 || rejected < 1000 {
		t.Fatalf("the generator is lopsided: %d accepted, %d rejected", accepted, rejected)
	}
	t.Logf("%d accepted, %d rejected", accepted, rejected)
}

// TestSelectorStringOfSets: the text the server itself writes for a stored
// selector (the /scale subresource's status.selector) always parses, for
// every value set, including sets with the empty value.
func TestSelectorStringOfSets(t *testing.T) {
	for _, vals := range [][]string{{""}, {"", "web"}, {"web", ""}, {"a", "", "b"}, {"in"}} {
		for _, op := range []Operator{In, NotIn} {
			s := newSelector([]Requirement{{Key: "tier", Op: op, Values: slices.Sorted(slices.Values(vals))}})
			p, err := ParseSelector(s.String())
			if err != nil || !p.Equal(s) {
				t.Errorf("%s %v: %q parses to %v, %v", op, vals, s.String(), p, err)
			}
		}
	}
}
