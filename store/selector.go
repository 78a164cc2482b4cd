package store

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
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
	// GreaterThan: the label is present and its value is an integer
	// greater than the requirement's ("a>5").
	GreaterThan Operator = "gt"
	// LessThan: the label is present and its value is an integer less
	// than the requirement's ("a<5").
	LessThan Operator = "lt"
)

// symbol returns how op is written between a key and its value.
func (op Operator) symbol() string {
	switch op {
	case GreaterThan:
		return ">"
	case LessThan:
		return "<"
	}
	return string(op)
}

// Requirement is one condition of a selector: a label key, an operator and,
// for all but Exists and DoesNotExist, the values compared against. Values
// are sorted and unique.
type Requirement struct {
	// Key is the label key.
	Key string
	// Op is the comparison.
	Op Operator
	// Values are compared with the label's value (one value for Equals,
	// NotEquals, GreaterThan and LessThan, where it is a decimal integer;
	// one or more for In and NotIn; none otherwise).
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
	case GreaterThan, LessThan:
		if !ok || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return r.Op == GreaterThan && have > want || r.Op == LessThan && have < want
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
	case Equals, NotEquals, GreaterThan, LessThan:
		return r.Key + r.Op.symbol() + r.Values[0]
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

// Error names the selector, the position and the problem.
func (e *SelectorError) Error() string {
	return fmt.Sprintf("%v: label selector %q: at position %d: %s", ErrInvalid, e.Selector, e.Pos, e.Msg)
}

// Unwrap returns ErrInvalid.
func (e *SelectorError) Unwrap() error { return ErrInvalid }

// ParseSelector parses a label selector in Kubernetes syntax (the grammar
// of k8s.io/apimachinery/pkg/labels.Parse): a comma-separated list of
// requirements, each one of
//
//	key=value  key==value  key!=value  key>int  key<int
//	key in (v1,v2)  key notin (v1)  key  !key
//
// Keys must be valid label keys (a key may be spelled "in" or "notin";
// only after a key are those operators) and values valid label values.
// The empty value is a value: "a=" and "a in (,x)" name it, "a in ()" is
// the set holding only it, and commas in a set may be empty ("(x,,y)",
// "(x,)"). The values of > and < are decimal integers; they match labels
// whose value is an integer greater or less. Blanks (space, tab, CR, LF)
// may surround every token. The empty string (or only blanks) gives the
// empty selector. Errors wrap ErrInvalid and name the position and what
// was expected.
func ParseSelector(s string) (Selector, error) {
	p := &selParser{in: s, toks: lexSelector(s)}
	var reqs []Requirement
	for {
		t := p.peek(valueContext)
		switch t.kind {
		case tokEnd:
			return newSelector(reqs), nil
		case tokIdent, tokNot:
		default:
			return Selector{}, p.errorAt(t, "expected a label key or '!', found %s", t)
		}
		r, err := p.requirement()
		if err != nil {
			return Selector{}, err
		}
		reqs = append(reqs, r)
		switch t := p.next(valueContext); t.kind {
		case tokEnd:
			return newSelector(reqs), nil
		case tokComma:
			if n := p.peek(valueContext); n.kind != tokIdent && n.kind != tokNot {
				return Selector{}, p.errorAt(n, "expected a label key or '!' after ',', found %s", n)
			}
		default:
			return Selector{}, p.errorAt(t, "expected ',' or end of selector, found %s", t)
		}
	}
}

// selToken kinds.
type selTokKind int

const (
	tokEnd selTokKind = iota
	tokIdent
	tokComma
	tokOpen
	tokClose
	tokNot
	tokEquals
	tokDoubleEquals
	tokNotEquals
	tokGreater
	tokLess
	tokIn
	tokNotIn
)

type selToken struct {
	kind selTokKind
	lit  string
	pos  int
}

// String describes a token in an error message.
func (t selToken) String() string {
	if t.kind == tokEnd {
		return "end of selector"
	}
	return fmt.Sprintf("%q", t.lit)
}

var selSymbols = map[string]selTokKind{
	",": tokComma, "(": tokOpen, ")": tokClose, "!": tokNot, "=": tokEquals,
	"==": tokDoubleEquals, "!=": tokNotEquals, ">": tokGreater, "<": tokLess,
}

func isSelSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isSelSymbol reports the bytes that make up operators and punctuation;
// they (and blanks) end an identifier.
func isSelSymbol(c byte) bool {
	switch c {
	case '=', '!', '(', ')', ',', '>', '<':
		return true
	}
	return false
}

// lexSelector splits s into tokens, ending with a tokEnd. A run of symbol
// bytes is cut into the longest operators it starts with ("!==" is "!="
// then "="); every other run of non-blank bytes is an identifier (or the
// keyword in or notin).
func lexSelector(s string) []selToken {
	var toks []selToken
	i := 0
	for {
		for i < len(s) && isSelSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return append(toks, selToken{kind: tokEnd, pos: i})
		}
		start := i
		if isSelSymbol(s[i]) {
			n := 1
			if i+1 < len(s) {
				if _, ok := selSymbols[s[i:i+2]]; ok {
					n = 2
				}
			}
			i += n
			toks = append(toks, selToken{kind: selSymbols[s[start:i]], lit: s[start:i], pos: start})
			continue
		}
		for i < len(s) && !isSelSpace(s[i]) && !isSelSymbol(s[i]) {
			i++
		}
		t := selToken{kind: tokIdent, lit: s[start:i], pos: start}
		switch t.lit {
		case "in":
			t.kind = tokIn
		case "notin":
			t.kind = tokNotIn
		}
		toks = append(toks, t)
	}
}

// Parser contexts: where a key or value may stand, the keywords in and
// notin are plain identifiers; after a key they are operators.
const (
	valueContext    = false
	operatorContext = true
)

type selParser struct {
	in   string
	toks []selToken
	pos  int // index into toks
}

func (p *selParser) peek(operators bool) selToken {
	t := p.toks[p.pos]
	if !operators && (t.kind == tokIn || t.kind == tokNotIn) {
		t.kind = tokIdent
	}
	return t
}

func (p *selParser) next(operators bool) selToken {
	t := p.peek(operators)
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

func (p *selParser) errorAt(t selToken, format string, args ...any) error {
	return &SelectorError{Selector: p.in, Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *selParser) requirement() (Requirement, error) {
	var r Requirement
	t := p.next(valueContext)
	if t.kind == tokNot {
		r.Op = DoesNotExist
		t = p.next(valueContext)
	}
	if t.kind != tokIdent {
		return r, p.errorAt(t, "expected a label key, found %s", t)
	}
	if err := ValidateLabelKey(t.lit); err != nil {
		return r, p.errorAt(t, "invalid label key %q: %s", t.lit, reason(err))
	}
	r.Key = t.lit
	if n := p.peek(valueContext); r.Op == DoesNotExist || n.kind == tokEnd || n.kind == tokComma {
		if r.Op == "" {
			r.Op = Exists
		}
		return r, nil // after "!key" anything else is the caller's error
	}
	op := p.next(operatorContext)
	switch op.kind {
	case tokEquals, tokDoubleEquals:
		r.Op = Equals
	case tokNotEquals:
		r.Op = NotEquals
	case tokGreater:
		r.Op = GreaterThan
	case tokLess:
		r.Op = LessThan
	case tokIn:
		r.Op = In
	case tokNotIn:
		r.Op = NotIn
	default:
		return r, p.errorAt(op, "expected an operator (=, ==, !=, >, <, in, notin), ',' or end of selector, found %s", op)
	}
	var vals []selToken
	var err error
	if r.Op == In || r.Op == NotIn {
		vals, err = p.valueSet(op)
	} else {
		vals, err = p.exactValue()
	}
	if err != nil {
		return r, err
	}
	for _, v := range vals {
		if err := ValidateLabelValue(v.lit); err != nil {
			return r, p.errorAt(v, "invalid label value %q: %s", v.lit, reason(err))
		}
		if r.Op == GreaterThan || r.Op == LessThan {
			if _, err := strconv.ParseInt(v.lit, 10, 64); err != nil {
				return r, p.errorAt(v, "the value of %q must be an integer, found %q", r.Op.symbol(), v.lit)
			}
		}
		r.Values = append(r.Values, v.lit)
	}
	slices.Sort(r.Values)
	r.Values = slices.Compact(r.Values)
	return r, nil
}

// exactValue reads the one value after =, ==, !=, > or <: an identifier,
// or nothing (the empty value) before ',' or the end.
func (p *selParser) exactValue() ([]selToken, error) {
	switch t := p.peek(valueContext); t.kind {
	case tokEnd, tokComma:
		return []selToken{{kind: tokIdent, pos: t.pos}}, nil
	case tokIdent:
		p.next(valueContext)
		return []selToken{t}, nil
	default:
		return nil, p.errorAt(t, "expected a value, ',' or end of selector, found %s", t)
	}
}

// valueSet reads "(v1,v2,...)". Values may be empty: "()" is the set of
// the empty value, and an empty place between, before or after commas
// adds it too.
func (p *selParser) valueSet(op selToken) ([]selToken, error) {
	open := p.next(valueContext)
	if open.kind != tokOpen {
		return nil, p.errorAt(open, "expected '(' after %q, found %s", op.lit, open)
	}
	var vals []selToken
	empty := func(at int) { vals = append(vals, selToken{kind: tokIdent, pos: at}) }
	expectValue := true // at the start, or just after a comma
	for {
		t := p.next(valueContext)
		switch {
		case t.kind == tokIdent && expectValue:
			vals = append(vals, t)
			expectValue = false
		case t.kind == tokComma:
			if expectValue {
				empty(t.pos)
			}
			expectValue = true
		case t.kind == tokClose:
			if expectValue {
				empty(t.pos)
			}
			return vals, nil
		case expectValue:
			return nil, p.errorAt(t, "expected a value, ',' or ')' in the value set of %q, found %s", op.lit, t)
		default:
			return nil, p.errorAt(t, "expected ',' or ')' in the value set of %q, found %s", op.lit, t)
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
