package patch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Operation is one step of a JSON patch (RFC 6902).
type Operation struct {
	// Op is add, remove, replace, move, copy or test.
	Op string
	// Path is the JSON pointer (RFC 6901) the operation targets.
	Path string
	// From is the source pointer of move and copy.
	From string
	// Value is the operand of add, replace and test (may be nil: JSON null).
	Value any
	// HasValue reports whether the patch had a "value" member.
	HasValue bool
}

// ParseJSONPatch decodes and checks a JSON patch document: an array of
// operation objects, each with a known op, a valid path, and the members
// that op needs. Errors wrap ErrInvalidPatch and name the operation index.
func ParseJSONPatch(patch []byte) ([]Operation, error) {
	v, err := decode("patch", patch)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: a JSON patch must be an array of operations, not %s", ErrInvalidPatch, typeName(v))
	}
	if len(list) > MaxOperations {
		return nil, fmt.Errorf("%w: the allowed maximum operations in a JSON patch is %d, got %d", ErrTooManyOperations, MaxOperations, len(list))
	}
	ops := make([]Operation, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: operation %d: must be an object, not %s", ErrInvalidPatch, i, typeName(e))
		}
		var op Operation
		str := func(name string, required bool) (string, error) {
			x, ok := m[name]
			if !ok {
				if required {
					return "", fmt.Errorf("%w: operation %d: missing %q", ErrInvalidPatch, i, name)
				}
				return "", nil
			}
			s, ok := x.(string)
			if !ok {
				return "", fmt.Errorf("%w: operation %d: %q must be a string, not %s", ErrInvalidPatch, i, name, typeName(x))
			}
			return s, nil
		}
		if op.Op, err = str("op", true); err != nil {
			return nil, err
		}
		if op.Path, err = str("path", true); err != nil {
			return nil, err
		}
		if _, err := parsePointer(op.Path); err != nil {
			return nil, fmt.Errorf("%w: operation %d (%s): path: %v", ErrInvalidPatch, i, op.Op, err)
		}
		switch op.Op {
		case "add", "replace", "test":
			op.Value, op.HasValue = m["value"]
			if !op.HasValue {
				return nil, fmt.Errorf("%w: operation %d (%s %s): missing \"value\"", ErrInvalidPatch, i, op.Op, op.Path)
			}
		case "move", "copy":
			if op.From, err = str("from", true); err != nil {
				return nil, err
			}
			if _, err := parsePointer(op.From); err != nil {
				return nil, fmt.Errorf("%w: operation %d (%s): from: %v", ErrInvalidPatch, i, op.Op, err)
			}
		case "remove":
		default:
			return nil, fmt.Errorf("%w: operation %d: unknown op %q (want add, remove, replace, move, copy or test)", ErrInvalidPatch, i, op.Op)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// JSONPatch applies a JSON patch (RFC 6902) to doc. The operations apply in
// order and atomically: if one fails, the error names its index, op and
// the full path, and no result is returned. A malformed patch gives an
// error wrapping ErrInvalidPatch; a well-formed one that does not apply
// (a missing path, an index out of range, a failed test, a result over the
// bound on added bytes) one wrapping ErrNotApplicable too.
func JSONPatch(doc, patch []byte, opts ...Option) ([]byte, error) {
	ops, err := ParseJSONPatch(patch)
	if err != nil {
		return nil, err
	}
	d, err := decode("document", doc)
	if err != nil {
		return nil, err
	}
	out, err := applyOps(d, ops, newOptions(opts))
	if err != nil {
		return nil, err
	}
	return encode(out)
}

// ApplyJSONPatch applies ops to a decoded JSON value. doc is not modified.
func ApplyJSONPatch(doc any, ops []Operation, opts ...Option) (any, error) {
	return applyOps(DeepCopyJSON(doc), ops, newOptions(opts))
}

func applyOps(doc any, ops []Operation, o options) (any, error) {
	var added int64
	for i, op := range ops {
		var err error
		doc, err = applyOp(doc, op, &added, o.maxAdded)
		if err != nil {
			if op.Op == "move" || op.Op == "copy" {
				return nil, fmt.Errorf("operation %d (%s from %s to %s): %w", i, op.Op, op.From, op.Path, err)
			}
			return nil, fmt.Errorf("operation %d (%s %s): %w", i, op.Op, op.Path, err)
		}
	}
	return doc, nil
}

// grow counts the encoded size of v placed at path (its member name and
// separators too) into *added, failing with ErrTooLarge (without looking at
// more of v than the bound allows) when that would pass limit.
func grow(added *int64, limit int64, path []string, v any) error {
	key := int64(0)
	if len(path) > 0 {
		key = stringSize(path[len(path)-1]) + 2
	}
	n, ok := encodedSize(v, limit-*added-key)
	n += key
	if !ok || *added+n > limit {
		return fmt.Errorf("%w: the patch would add more than %d bytes to the object", ErrTooLarge, limit)
	}
	*added += n
	return nil
}

// encodedSize returns an upper bound (exact but for a comma per element)
// of the size of v as encode writes it, or false as soon as that passes
// budget: its cost is bounded by the budget, not by v.
func encodedSize(v any, budget int64) (int64, bool) {
	var n int64
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			n += 2
			for k, e := range x {
				n += stringSize(k) + 2 // the colon and a comma
				if n > budget || !walk(e) {
					return false
				}
			}
		case []any:
			n += 2
			for _, e := range x {
				n++
				if n > budget || !walk(e) {
					return false
				}
			}
		case string:
			n += stringSize(x)
		case json.Number:
			n += max(int64(len(x)), 1)
		case bool, nil:
			n += 5
		case moved:
		default:
			n += 32 // a Go number: at most 24 characters
		}
		return n <= budget
	}
	if !walk(v) {
		return 0, false
	}
	return n, true
}

// moved stands for a value a move operation takes along: it adds no bytes.
type moved struct{}

func applyOp(doc any, op Operation, added *int64, limit int64) (any, error) {
	path, err := parsePointer(op.Path)
	if err != nil {
		return nil, err
	}
	switch op.Op {
	case "add":
		if err := grow(added, limit, path, op.Value); err != nil {
			return nil, err
		}
		return addAt(doc, path, DeepCopyJSON(op.Value))
	case "remove":
		d, _, err := removeAt(doc, path)
		return d, err
	case "replace":
		if _, err := getAt(doc, path); err != nil {
			return nil, err
		}
		if err := grow(added, limit, path, op.Value); err != nil {
			return nil, err
		}
		if len(path) == 0 {
			return DeepCopyJSON(op.Value), nil
		}
		return modify(doc, path, func(c any, key string) (any, error) {
			switch x := c.(type) {
			case map[string]any:
				x[key] = DeepCopyJSON(op.Value)
				return x, nil
			case []any:
				i, _ := arrayIndex(key, len(x), false)
				x[i] = DeepCopyJSON(op.Value)
				return x, nil
			}
			return nil, fmt.Errorf("%w: %s: cannot replace inside a %s", ErrNotApplicable, pointer(path), typeName(c))
		})
	case "move":
		from, err := parsePointer(op.From)
		if err != nil {
			return nil, err
		}
		if len(from) < len(path) && isPrefix(from, path) {
			return nil, fmt.Errorf("%w: cannot move %s into one of its own children", ErrNotApplicable, op.From)
		}
		if len(from) == len(path) && isPrefix(from, path) {
			_, err := getAt(doc, from)
			return doc, err
		}
		// A move adds nothing but, perhaps, a longer member name.
		if err := grow(added, limit, path, moved{}); err != nil {
			return nil, err
		}
		d, v, err := removeAt(doc, from)
		if err != nil {
			return nil, err
		}
		return addAt(d, path, v)
	case "copy":
		from, err := parsePointer(op.From)
		if err != nil {
			return nil, err
		}
		v, err := getAt(doc, from)
		if err != nil {
			return nil, err
		}
		// The bound is checked before the copy is made: each copy may
		// double the document.
		if err := grow(added, limit, path, v); err != nil {
			return nil, err
		}
		return addAt(doc, path, DeepCopyJSON(v))
	case "test":
		v, err := getAt(doc, path)
		if err != nil {
			return nil, err
		}
		if !Equal(v, op.Value) {
			return nil, fmt.Errorf("%w: %s is %s, not the expected value", ErrTestFailed, pointer(path), short(v))
		}
		return doc, nil
	}
	return nil, fmt.Errorf("%w: unknown op %q", ErrInvalidPatch, op.Op)
}

func short(v any) string {
	b, err := encode(v)
	if err != nil {
		return typeName(v)
	}
	if len(b) > 64 {
		return string(b[:61]) + "..."
	}
	return string(b)
}

func isPrefix(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parsePointer splits a JSON pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%w: JSON pointer %q must be empty or start with /", ErrInvalidPatch, p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 < len(s) && s[j+1] == '0' {
				b.WriteByte('~')
			} else if j+1 < len(s) && s[j+1] == '1' {
				b.WriteByte('/')
			} else {
				return nil, fmt.Errorf("%w: JSON pointer %q: ~ must be followed by 0 or 1", ErrInvalidPatch, p)
			}
			j++
		}
		parts[i] = b.String()
	}
	return parts, nil
}

// arrayIndex parses an array index token; "-" means the end (only when
// appending). With insert, n itself is a valid index. Its errors name no
// path: callers add it.
func arrayIndex(tok string, n int, insert bool) (int, error) {
	if tok == "-" {
		if insert {
			return n, nil
		}
		return 0, fmt.Errorf("index \"-\" names no existing element")
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("%q is not a valid array index", tok)
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a valid array index", tok)
		}
	}
	i, err := strconv.Atoi(tok)
	max := n - 1
	if insert {
		max = n
	}
	if err != nil || i > max {
		return 0, fmt.Errorf("array index %s is out of range (length %d)", tok, n)
	}
	return i, nil
}

// child returns the member or element path[i] of node, with errors naming
// the full pointer up to it.
func child(node any, path []string, i int) (any, error) {
	switch x := node.(type) {
	case map[string]any:
		v, ok := x[path[i]]
		if !ok {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNotApplicable, pointer(path[:i+1]))
		}
		return v, nil
	case []any:
		j, err := arrayIndex(path[i], len(x), false)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrNotApplicable, pointer(path[:i+1]), err)
		}
		return x[j], nil
	}
	return nil, fmt.Errorf("%w: %s: cannot index into a %s", ErrNotApplicable, pointer(path[:i+1]), typeName(node))
}

func getAt(doc any, path []string) (any, error) {
	cur := doc
	for i := range path {
		var err error
		if cur, err = child(cur, path, i); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// modify walks to the parent of path's last token and calls fn on it; fn
// returns the (possibly new) parent, which is stored back in its own parent.
func modify(doc any, path []string, fn func(parent any, key string) (any, error)) (any, error) {
	return modifyFrom(doc, path, 0, fn)
}

func modifyFrom(node any, path []string, i int, fn func(parent any, key string) (any, error)) (any, error) {
	if i == len(path)-1 {
		return fn(node, path[i])
	}
	c, err := child(node, path, i)
	if err != nil {
		return nil, err
	}
	nc, err := modifyFrom(c, path, i+1, fn)
	if err != nil {
		return nil, err
	}
	switch x := node.(type) {
	case map[string]any:
		x[path[i]] = nc
	case []any:
		j, _ := arrayIndex(path[i], len(x), false)
		x[j] = nc
	}
	return node, nil
}

func addAt(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	return modify(doc, path, func(c any, key string) (any, error) {
		switch x := c.(type) {
		case map[string]any:
			x[key] = v
			return x, nil
		case []any:
			i, err := arrayIndex(key, len(x), true)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrNotApplicable, pointer(path), err)
			}
			out := make([]any, 0, len(x)+1)
			out = append(out, x[:i]...)
			out = append(out, v)
			return append(out, x[i:]...), nil
		}
		return nil, fmt.Errorf("%w: %s: parent is a %s, not an object or array", ErrNotApplicable, pointer(path), typeName(c))
	})
}

func removeAt(doc any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, nil, fmt.Errorf("%w: cannot remove the whole document", ErrNotApplicable)
	}
	var removed any
	d, err := modify(doc, path, func(c any, key string) (any, error) {
		switch x := c.(type) {
		case map[string]any:
			v, ok := x[key]
			if !ok {
				return nil, fmt.Errorf("%w: %s does not exist", ErrNotApplicable, pointer(path))
			}
			removed = v
			delete(x, key)
			return x, nil
		case []any:
			i, err := arrayIndex(key, len(x), false)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrNotApplicable, pointer(path), err)
			}
			removed = x[i]
			out := make([]any, 0, len(x)-1)
			out = append(out, x[:i]...)
			return append(out, x[i+1:]...), nil
		}
		return nil, fmt.Errorf("%w: %s: parent is a %s, not an object or array", ErrNotApplicable, pointer(path), typeName(c))
	})
	return d, removed, err
}
