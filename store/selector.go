package store

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Operator is the comparison a selector requirement makes.
type Operator string

// The selector operators, written as in Kubernetes label selector syntax.
const (
	// Equals: the label is present with exactly the value ("a=b" or "a==b").
	Equals Operator = "="
	// NotEquals: the label is absent or has another value ("a!=b").
	NotEquals Operator = "!="
	// In: the label is present with one of the values ("a in (x,y)").
	In Operator = "in"
	// NotIn: the label is absent or has none of the values ("a notin (x)").
	NotIn Operator = "notin"
	// Exists: the label is present with any value ("a").
	Exists Operator = "exists"
	// DoesNotExist: the label is absent ("!a").
	DoesNotExist Operator = "!"
)

// Requirement is one condition of a selector: a label key, an operator and,
// for all but Exists and DoesNotExist, the values compared against. Values
// are sorted and unique.
type Requirement struct {
	// Key is the label key.
	Key string
	// Op is the comparison.
	Op Operator
	// Values are compared with the label's value (one value for Equals and
	// NotEquals, one or more for In and NotIn, none otherwise).
	Values []string
}

// Matches reports whether labels satisfy r.
func (r Requirement) Matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Op {
	case Exists:
		return ok
	case DoesNotExist:
		return !ok
	case Equals, In:
		return ok && slices.Contains(r.Values, v)
	case NotEquals, NotIn:
		return !ok || !slices.Contains(r.Values, v)
	}
	return false
}

// String writes r in selector syntax.
func (r Requirement) String() string {
	switch r.Op {
	case Exists:
		return r.Key
	case DoesNotExist:
		return "!" + r.Key
	case Equals, NotEquals:
		return r.Key + string(r.Op) + r.Values[0]
	default:
		return r.Key + " " + string(r.Op) + " (" + strings.Join(r.Values, ",") + ")"
	}
}

// Selector is a label selector: a conjunction of requirements. It is a
// value type; the zero Selector has no requirements and matches everything.
// Build one with ParseSelector or SelectorFromSet.
type Selector struct {
	reqs []Requirement // sorted by key, then operator, then values
}

// SelectorFromSet returns a selector that requires each label to have
// exactly the given value. A nil or empty map gives the empty selector.
func SelectorFromSet(labels map[string]string) Selector {
	reqs := make([]Requirement, 0, len(labels))
	for k, v := range labels {
		reqs = append(reqs, Requirement{Key: k, Op: Equals, Values: []string{v}})
	}
	return newSelector(reqs)
}

func newSelector(reqs []Requirement) Selector {
	if len(reqs) == 0 {
		return Selector{}
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].less(reqs[j]) })
	// Drop exact duplicates so that equal selectors have equal forms.
	out := reqs[:1]
	for _, r := range reqs[1:] {
		if !r.equal(out[len(out)-1]) {
			out = append(out, r)
		}
	}
	return Selector{reqs: out}
}

func (r Requirement) less(o Requirement) bool {
	if r.Key != o.Key {
		return r.Key < o.Key
	}
	if r.Op != o.Op {
		return r.Op < o.Op
	}
	return slices.Compare(r.Values, o.Values) < 0
}

func (r Requirement) equal(o Requirement) bool {
	return r.Key == o.Key && r.Op == o.Op && slices.Equal(r.Values, o.Values)
}

// Matches reports whether labels satisfy every requirement of s.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s.reqs {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether s has no requirements (and so matches everything).
func (s Selector) Empty() bool { return len(s.reqs) == 0 }

// Requirements returns a copy of s's requirements in canonical order.
func (s Selector) Requirements() []Requirement {
	out := make([]Requirement, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = Requirement{Key: r.Key, Op: r.Op, Values: slices.Clone(r.Values)}
	}
	return out
}

// Equal reports whether s and o have the same requirements.
func (s Selector) Equal(o Selector) bool {
	return slices.EqualFunc(s.reqs, o.reqs, Requirement.equal)
}

// String returns s in canonical selector syntax: requirements sorted by key,
// set values sorted, "==" written as "=". ParseSelector of the result gives
// an equal selector. The empty selector is "".
func (s Selector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// SelectorError reports a malformed selector: where and what was expected.
// It wraps ErrInvalid.
type SelectorError struct {
	// Selector is the input.
	Selector string
	// Pos is the byte offset of the problem.
	Pos int
	// Msg says what is wrong or what was expected.
	Msg string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("%v: label selector %q: at position %d: %s", ErrInvalid, e.Selector, e.Pos, e.Msg)
}

// Unwrap returns ErrInvalid.
func (e *SelectorError) Unwrap() error { return ErrInvalid }

// ParseSelector parses a label selector in Kubernetes syntax: a
// comma-separated list of requirements, each one of
//
//	key=value  key==value  key!=value  key in (v1,v2)  key notin (v1)  key  !key
//
// Keys must be valid label keys and values valid label values; a value in
// a set must not be empty. The empty
// string (or only spaces) gives the empty selector. Errors wrap ErrInvalid and
// name the position and what was expected.
func ParseSelector(s string) (Selector, error) {
	p := &selParser{in: s}
	if p.skipSpace(); p.pos == len(s) {
		return Selector{}, nil
	}
	var reqs []Requirement
	for {
		r, err := p.requirement()
		if err != nil {
			return Selector{}, err
		}
		reqs = append(reqs, r)
		p.skipSpace()
		if p.pos == len(s) {
			break
		}
		if s[p.pos] != ',' {
			return Selector{}, p.errorf("expected ',' or end of selector, found %s", p.describe())
		}
		p.pos++
	}
	return newSelector(reqs), nil
}

type selParser struct {
	in  string
	pos int
}

func (p *selParser) errorf(format string, args ...any) error {
	return &SelectorError{Selector: p.in, Pos: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *selParser) skipSpace() {
	for p.pos < len(p.in) && isSelSpace(p.in[p.pos]) {
		p.pos++
	}
}

func isSelSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isSelSpecial reports bytes that end an identifier.
func isSelSpecial(c byte) bool {
	return isSelSpace(c) || c == ',' || c == '=' || c == '!' || c == '(' || c == ')'
}

func (p *selParser) describe() string {
	if p.pos >= len(p.in) {
		return "end of selector"
	}
	return fmt.Sprintf("%q", p.in[p.pos])
}

// ident reads an identifier (possibly empty) at the current position.
func (p *selParser) ident() string {
	start := p.pos
	for p.pos < len(p.in) && !isSelSpecial(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func (p *selParser) key() (string, error) {
	p.skipSpace()
	start := p.pos
	k := p.ident()
	if k == "" {
		return "", p.errorf("expected a label key, found %s", p.describe())
	}
	if k == "in" || k == "notin" {
		p.pos = start
		return "", p.errorf("expected a label key, found keyword %q", k)
	}
	if err := ValidateLabelKey(k); err != nil {
		p.pos = start
		return "", p.errorf("invalid label key %q: %s", k, reason(err))
	}
	return k, nil
}

func (p *selParser) value() (string, error) {
	p.skipSpace()
	start := p.pos
	v := p.ident()
	if err := ValidateLabelValue(v); err != nil {
		p.pos = start
		return "", p.errorf("invalid label value %q: %s", v, reason(err))
	}
	return v, nil
}

func (p *selParser) requirement() (Requirement, error) {
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '!' {
		p.pos++
		k, err := p.key()
		if err != nil {
			return Requirement{}, err
		}
		return Requirement{Key: k, Op: DoesNotExist}, nil
	}
	k, err := p.key()
	if err != nil {
		return Requirement{}, err
	}
	p.skipSpace()
	if p.pos == len(p.in) || p.in[p.pos] == ',' {
		return Requirement{Key: k, Op: Exists}, nil
	}
	var op Operator
	switch {
	case strings.HasPrefix(p.in[p.pos:], "=="):
		op, p.pos = Equals, p.pos+2
	case strings.HasPrefix(p.in[p.pos:], "="):
		op, p.pos = Equals, p.pos+1
	case strings.HasPrefix(p.in[p.pos:], "!="):
		op, p.pos = NotEquals, p.pos+2
	default:
		start := p.pos
		switch w := p.ident(); w {
		case "in":
			op = In
		case "notin":
			op = NotIn
		default:
			p.pos = start
			return Requirement{}, p.errorf("expected an operator (=, ==, !=, in, notin), ',' or end of selector, found %s", p.describe())
		}
	}
	if op == Equals || op == NotEquals {
		v, err := p.value()
		if err != nil {
			return Requirement{}, err
		}
		return Requirement{Key: k, Op: op, Values: []string{v}}, nil
	}
	vals, err := p.valueSet(op)
	if err != nil {
		return Requirement{}, err
	}
	return Requirement{Key: k, Op: op, Values: vals}, nil
}

func (p *selParser) valueSet(op Operator) ([]string, error) {
	p.skipSpace()
	if p.pos == len(p.in) || p.in[p.pos] != '(' {
		return nil, p.errorf("expected '(' after %q, found %s", op, p.describe())
	}
	p.pos++
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ')' {
		return nil, p.errorf("the value set of %q must not be empty", op)
	}
	var vals []string
	for {
		p.skipSpace()
		start := p.pos
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if v == "" {
			p.pos = start
			return nil, p.errorf("expected a value in the set of %q, found %s (empty values are not allowed in sets)", op, p.describe())
		}
		vals = append(vals, v)
		p.skipSpace()
		if p.pos == len(p.in) {
			return nil, p.errorf("expected ',' or ')' in value set, found end of selector")
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
			continue
		case ')':
			p.pos++
			slices.Sort(vals)
			return slices.Compact(vals), nil
		default:
			return nil, p.errorf("expected ',' or ')' in value set, found %s", p.describe())
		}
	}
}

// reason extracts the Reason of a *FieldError, or the error text.
func reason(err error) string {
	if fe, ok := err.(*FieldError); ok {
		return fe.Reason
	}
	return err.Error()
}
