package store

import (
	"fmt"
	"sort"
	"strings"
)

// ErrFieldSelector is wrapped by field selector errors; it wraps ErrInvalid.
var ErrFieldSelector = fmt.Errorf("%w: field selector", ErrInvalid)

// FieldRequirement is one term of a field selector: Field Op Value.
type FieldRequirement struct {
	// Field is a field label such as "spec.nodeName".
	Field string
	// Op is "=" (also written "==") or "!=".
	Op string
	// Value is compared with the field's text value; it may be empty.
	Value string
}

// FieldSelector is a parsed field selector: every requirement must hold.
// The zero value selects everything.
type FieldSelector []FieldRequirement

// ParseFieldSelector parses the Kubernetes field selector syntax (the
// grammar of k8s.io/apimachinery/pkg/fields.ParseSelector):
// comma-separated "field=value", "field==value" or "field!=value" terms.
// A term splits at its first operator; in the value a backslash escapes
// ',', '=' and '\' (and nothing else), while an unescaped '=' is an error;
// every other character, '!' included, stands for itself. Empty terms are
// ignored ("a=b," is "a=b"), and the empty string selects everything.
// Errors wrap ErrFieldSelector and name the term and the problem. Which
// field labels exist is the resource's business: see Fields.
func ParseFieldSelector(s string) (FieldSelector, error) {
	if s == "" {
		return nil, nil
	}
	var sel FieldSelector
	for i, term := range splitFieldTerms(s) {
		if term == "" {
			continue
		}
		r, err := parseFieldTerm(term)
		if err != nil {
			return nil, fmt.Errorf("%w: term %d %q: %v", ErrFieldSelector, i, term, err)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitFieldTerms splits on commas not preceded by a backslash escape.
func splitFieldTerms(s string) []string {
	var terms []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',':
			terms = append(terms, s[start:i])
			start = i + 1
		}
	}
	return append(terms, s[start:])
}

func parseFieldTerm(t string) (FieldRequirement, error) {
	for i := 0; i < len(t); i++ {
		var op string
		switch {
		case strings.HasPrefix(t[i:], "!="):
			op = "!="
		case strings.HasPrefix(t[i:], "=="):
			op = "=="
		case t[i] == '=':
			op = "="
		default:
			continue
		}
		field := t[:i]
		if field == "" {
			return FieldRequirement{}, fmt.Errorf("missing field name before %q", op)
		}
		if strings.ContainsAny(field, `\ `) {
			return FieldRequirement{}, fmt.Errorf("field name %q may not contain spaces or backslashes", field)
		}
		val, err := unescapeFieldValue(t[i+len(op):])
		if err != nil {
			return FieldRequirement{}, err
		}
		if op == "==" {
			op = "="
		}
		return FieldRequirement{Field: field, Op: op, Value: val}, nil
	}
	return FieldRequirement{}, fmt.Errorf("expected an operator (=, == or !=)")
}

func unescapeFieldValue(v string) (string, error) {
	if !strings.ContainsAny(v, `\,=`) {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '\\':
			if i+1 >= len(v) {
				return "", fmt.Errorf("value ends with a lone backslash")
			}
			n := v[i+1]
			if n != '\\' && n != ',' && n != '=' {
				return "", fmt.Errorf(`invalid escape sequence %q (only \\, \, and \= are escapes)`, v[i:i+2])
			}
			b.WriteByte(n)
			i++
		case '=':
			return "", fmt.Errorf("unescaped '=' in value (write \\=)")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

var fieldEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`)

// String returns the canonical text, which ParseFieldSelector accepts.
func (s FieldSelector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.Field + r.Op + fieldEscaper.Replace(r.Value)
	}
	return strings.Join(parts, ",")
}

// Empty reports whether the selector selects everything.
func (s FieldSelector) Empty() bool { return len(s) == 0 }

// Fields is a resource's table of field selector labels: each label's
// function returns an object's value for it as text (booleans as "true" or
// "false", numbers in decimal), as Kubernetes' field label conversion does.
type Fields[T Object] map[string]func(T) string

// MetadataFields returns the labels every resource supports:
// metadata.name, and metadata.namespace for a namespaced resource.
func MetadataFields[T Object](namespaced bool) Fields[T] {
	f := Fields[T]{"metadata.name": func(o T) string { return o.GetObjectMeta().Name }}
	if namespaced {
		f["metadata.namespace"] = func(o T) string { return o.GetObjectMeta().Namespace }
	}
	return f
}

// Labels returns the supported labels, sorted.
func (f Fields[T]) Labels() []string {
	labels := make([]string, 0, len(f))
	for l := range f {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	return labels
}

// Matcher turns a parsed selector into a predicate. A label f does not
// have gives an error wrapping ErrFieldSelector that lists the supported
// ones.
func (f Fields[T]) Matcher(sel FieldSelector) (func(T) bool, error) {
	type term struct {
		get func(T) string
		neg bool
		val string
	}
	terms := make([]term, 0, len(sel))
	for _, r := range sel {
		get, ok := f[r.Field]
		if !ok {
			labels := f.Labels()
			for i, l := range labels {
				labels[i] = fmt.Sprintf("%q", l)
			}
			return nil, fmt.Errorf("%w: %q is not a known field selector: only %s", ErrFieldSelector, r.Field, strings.Join(labels, ", "))
		}
		terms = append(terms, term{get: get, neg: r.Op == "!=", val: r.Value})
	}
	return func(obj T) bool {
		for _, t := range terms {
			if (t.get(obj) == t.val) == t.neg {
				return false
			}
		}
		return true
	}, nil
}

// Filter parses a field selector string and returns a predicate for
// ListOptions.Filter and WatchOptions.Filter: nil for the empty selector;
// objects of another type than T never match. Errors wrap
// ErrFieldSelector.
func (f Fields[T]) Filter(selector string) (func(Object) bool, error) {
	sel, err := ParseFieldSelector(selector)
	if err != nil || sel.Empty() {
		return nil, err
	}
	m, err := f.Matcher(sel)
	if err != nil {
		return nil, err
	}
	return func(o Object) bool {
		t, ok := o.(T)
		return ok && m(t)
	}, nil
}
