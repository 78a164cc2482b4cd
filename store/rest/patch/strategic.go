package patch

import (
	"fmt"
	"sort"
	"strings"
)

// Strategic merge patch directives (the keys and values Kubernetes uses).
const (
	directiveKey           = "$patch"
	retainKeysKey          = "$retainKeys"
	deleteFromPrimitiveKey = "$deleteFromPrimitiveList/"
	setElementOrderKey     = "$setElementOrder/"
)

// StrategicMergePatch applies a Kubernetes strategic merge patch to the
// object doc, using schema (from SchemaFor the object's Go type) for list
// strategies:
//
//   - objects merge recursively; a null member deletes the field;
//   - lists tagged patchStrategy:"merge" with a patchMergeKey merge element
//     by element on that key; other tagged lists of scalars merge as a set;
//     untagged lists are replaced;
//   - "$patch": "replace" in an object replaces it, "delete" removes it (in a
//     merged list: removes the element with that key), "merge" is the default;
//     a list element {"$patch":"replace"} replaces the whole list;
//   - "$deleteFromPrimitiveList/<field>": [values] removes scalars;
//   - "$setElementOrder/<field>": [...] orders the merged list;
//   - merged lists are ordered as Kubernetes orders them: the items the
//     patch names (in $setElementOrder, else in the patch list) in that
//     order, interleaved with the other items by their old positions;
//   - "$retainKeys": [names] drops the object's other fields.
//
// Members the schema does not know merge like a JSON merge patch. Errors
// wrap ErrInvalidPatch and name the field path.
func StrategicMergePatch(doc, patch []byte, schema *Schema) ([]byte, error) {
	d, err := decode("document", doc)
	if err != nil {
		return nil, err
	}
	p, err := decode("patch", patch)
	if err != nil {
		return nil, err
	}
	dm, ok := d.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document must be a JSON object, not %s", ErrInvalidPatch, typeName(d))
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a strategic merge patch must be a JSON object, not %s", ErrInvalidPatch, typeName(p))
	}
	out, err := mergeMap(dm, pm, schema, "")
	if err != nil {
		return nil, err
	}
	return encode(out)
}

// ApplyStrategicMergePatch is StrategicMergePatch on decoded values. doc is
// not modified; the result shares no memory with doc or patch.
func ApplyStrategicMergePatch(doc, patch map[string]any, schema *Schema) (map[string]any, error) {
	return mergeMap(DeepCopyJSON(doc).(map[string]any), patch, schema, "")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func invalid(path, format string, args ...any) error {
	if path == "" {
		path = "<root>"
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidPatch, path, fmt.Sprintf(format, args...))
}

// mergeMap merges patch into orig (which it may modify) and returns the result.
func mergeMap(orig, patch map[string]any, schema *Schema, path string) (map[string]any, error) {
	if orig == nil {
		orig = map[string]any{}
	}
	if d, ok := patch[directiveKey]; ok {
		switch d {
		case "replace":
			return cleanMap(patch, schema, path)
		case "delete":
			return map[string]any{}, nil
		case "merge":
		default:
			return nil, invalid(path, "unknown $patch directive %s (want replace, delete or merge)", short(d))
		}
	}
	// $retainKeys drops fields that are neither listed nor patched.
	if rk, ok := patch[retainKeysKey]; ok {
		list, ok := rk.([]any)
		if !ok {
			return nil, invalid(path, "$retainKeys must be a list of field names, not %s", typeName(rk))
		}
		keep := map[string]bool{}
		for _, k := range list {
			s, ok := k.(string)
			if !ok {
				return nil, invalid(path, "$retainKeys must list strings, found %s", typeName(k))
			}
			keep[s] = true
		}
		// Every field the patch sets must be one it retains (Kubernetes:
		// "invalid patch format of retainKeys").
		for _, k := range sortedKeys(patch) {
			if v := patch[k]; v == nil || strings.HasPrefix(k, "$") {
				continue
			}
			if !keep[k] {
				return nil, invalid(join(path, k), "invalid patch format of $retainKeys: the patch sets %q, which its $retainKeys list %s does not name", k, short(rk))
			}
		}
		for k := range orig {
			if !keep[k] {
				delete(orig, k)
			}
		}
	}
	// $deleteFromPrimitiveList first, so the patch's own values can re-add.
	keys := sortedKeys(patch)
	for _, k := range keys {
		field, ok := strings.CutPrefix(k, deleteFromPrimitiveKey)
		if !ok {
			continue
		}
		vals, ok := patch[k].([]any)
		if !ok {
			return nil, invalid(join(path, field), "%s value must be a list, not %s", k, typeName(patch[k]))
		}
		cur, ok := orig[field].([]any)
		if !ok {
			continue
		}
		kept := cur[:0:0]
		for _, c := range cur {
			drop := false
			for _, v := range vals {
				if Equal(c, v) {
					drop = true
					break
				}
			}
			if !drop {
				kept = append(kept, c)
			}
		}
		orig[field] = kept
	}
	var originals map[string]any // list values before merging, for $setElementOrder
	for _, k := range keys {
		if field, ok := strings.CutPrefix(k, setElementOrderKey); ok {
			if originals == nil {
				originals = map[string]any{}
			}
			originals[field] = orig[field]
		}
	}
	for _, k := range keys {
		v := patch[k]
		if strings.HasPrefix(k, "$") {
			switch {
			case k == directiveKey, k == retainKeysKey,
				strings.HasPrefix(k, deleteFromPrimitiveKey), strings.HasPrefix(k, setElementOrderKey):
				continue
			}
			return nil, invalid(join(path, k), "unknown directive")
		}
		fp := join(path, k)
		if v == nil {
			delete(orig, k)
			continue
		}
		f := schema.Field(k)
		var fs *Schema
		if f != nil {
			fs = f.Schema
		}
		switch pv := v.(type) {
		case map[string]any:
			om, _ := orig[k].(map[string]any)
			m, err := mergeMap(om, pv, fs, fp)
			if err != nil {
				return nil, err
			}
			orig[k] = m // "$patch": "delete" leaves an empty object, as in Kubernetes
		case []any:
			ol, _ := orig[k].([]any)
			l, err := mergeList(ol, pv, f, fp)
			if err != nil {
				return nil, err
			}
			orig[k] = l
		default:
			orig[k] = v
		}
	}
	for _, k := range keys {
		field, ok := strings.CutPrefix(k, setElementOrderKey)
		if !ok {
			continue
		}
		order, ok := patch[k].([]any)
		if !ok {
			return nil, invalid(join(path, field), "%s value must be a list, not %s", k, typeName(patch[k]))
		}
		if pl, ok := patch[field].([]any); ok {
			if err := checkElementOrder(pl, order, schema.Field(field), join(path, field)); err != nil {
				return nil, err
			}
		}
		cur, ok := orig[field].([]any)
		if !ok {
			continue
		}
		f := schema.Field(field)
		key := ""
		if f != nil {
			key = f.MergeKey
		}
		for i, o := range order {
			if _, isMap := o.(map[string]any); key != "" && !isMap {
				return nil, invalid(fmt.Sprintf("%s[%d]", join(path, field), i), "$setElementOrder element must be an object with merge key %q", key)
			}
			if m, isMap := o.(map[string]any); key != "" && isMap {
				if _, ok := m[key]; !ok {
					return nil, invalid(fmt.Sprintf("%s[%d]", join(path, field), i), "$setElementOrder element has no merge key %q", key)
				}
			}
		}
		before, _ := originals[field].([]any)
		orig[field] = normalizeOrder(cur, order, before, key)
	}
	return orig, nil
}

// checkElementOrder checks a patch list against its $setElementOrder list
// as Kubernetes does: the patch's items (apart from deletions and
// directives) must all appear in the order list, in the same relative
// order, so a $setElementOrder that names items the patch does not have in
// that order, or leaves out one it has, is a malformed patch.
func checkElementOrder(patchList, order []any, f *Field, path string) error {
	key := ""
	if f != nil && f.MergeKey != "" {
		key = f.MergeKey
	}
	id := func(v any) any {
		if key == "" {
			return v
		}
		m, _ := v.(map[string]any)
		return m[key]
	}
	j := 0
	for i, e := range patchList {
		if m, ok := e.(map[string]any); ok {
			if _, directive := m[directiveKey]; directive {
				continue
			}
		}
		want := id(e)
		for j < len(order) && !Equal(id(order[j]), want) {
			j++
		}
		if j == len(order) {
			return invalid(fmt.Sprintf("%s[%d]", path, i), "invalid patch format of $setElementOrder: the patch's list item %s is not in the $setElementOrder list %s (in the same order)", short(e), short(order))
		}
		j++
	}
	return nil
}

// cleanMap copies a patch object for use as a value: directives are
// processed against an empty original.
func cleanMap(patch map[string]any, schema *Schema, path string) (map[string]any, error) {
	p := make(map[string]any, len(patch))
	for k, v := range patch {
		if k != directiveKey {
			p[k] = v
		}
	}
	return mergeMap(map[string]any{}, p, schema, path)
}

// mergeList merges a patch list into orig according to the field's strategy.
func mergeList(orig, patch []any, f *Field, path string) ([]any, error) {
	// A {"$patch":"replace"} element replaces the list with the others.
	replace := false
	rest := make([]any, 0, len(patch))
	merging := f != nil && f.Merge && f.MergeKey != ""
	for i, e := range patch {
		if m, ok := e.(map[string]any); ok {
			d, has := m[directiveKey]
			switch {
			case has && d == "replace" && (merging || len(m) == 1):
				// In a merged list an element saying "replace" (with or
				// without other members) replaces the list with the other
				// elements, as Kubernetes does.
				replace = true
				continue
			case has && d == "merge" && merging:
				return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "$patch: merge is not supported on list elements")
			case has && len(m) == 1 && d != "delete":
				return nil, invalid(path, "a list element with only $patch must say replace or delete, not %s", short(d))
			}
		}
		rest = append(rest, e)
	}
	var elem *Schema
	if f != nil {
		elem = f.Schema.Elem()
	}
	if f == nil || !f.Merge || replace {
		return cleanList(rest, elem, path)
	}
	if f.MergeKey == "" {
		// a set of scalars
		out := append([]any(nil), orig...)
		for i, e := range rest {
			if _, ok := e.(map[string]any); ok {
				return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "an object in a list merged as a set of values (no merge key)")
			}
			if _, ok := e.([]any); ok {
				return nil, fmt.Errorf("%w: %s[%d]: a list in a list merged as a set of values", ErrNotApplicable, path, i)
			}
			found := false
			for _, o := range out {
				if Equal(o, e) {
					found = true
					break
				}
			}
			if !found {
				out = append(out, e)
			}
		}
		return normalizeOrder(out, rest, orig, ""), nil
	}
	key := f.MergeKey
	out := append([]any(nil), orig...)
	for i, e := range rest {
		ep := fmt.Sprintf("%s[%d]", path, i)
		pm, ok := e.(map[string]any)
		if !ok {
			return nil, invalid(ep, "element must be an object with merge key %q, not %s", key, typeName(e))
		}
		kv, ok := pm[key]
		if !ok || kv == nil {
			return nil, invalid(ep, "element has no merge key %q", key)
		}
		idx := -1
		for j, o := range out {
			if om, ok := o.(map[string]any); ok && Equal(om[key], kv) {
				idx = j
				break
			}
		}
		if d, ok := pm[directiveKey]; ok && d == "delete" {
			if idx >= 0 {
				// remove every element with this key
				kept := out[:0:0]
				for _, o := range out {
					if om, ok := o.(map[string]any); ok && Equal(om[key], kv) {
						continue
					}
					kept = append(kept, o)
				}
				out = kept
			}
			continue
		}
		if idx < 0 {
			m, err := mergeMap(map[string]any{}, pm, elem, fmt.Sprintf("%s[%s=%s]", path, key, short(kv)))
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		om, _ := out[idx].(map[string]any)
		m, err := mergeMap(om, pm, elem, fmt.Sprintf("%s[%s=%s]", path, key, short(kv)))
		if err != nil {
			return nil, err
		}
		out[idx] = m
	}
	order := make([]any, 0, len(rest))
	for _, e := range rest {
		if d, _ := e.(map[string]any)[directiveKey]; d != "delete" {
			order = append(order, e)
		}
	}
	return normalizeOrder(out, order, orig, key), nil
}

// cleanList copies a replacing list, processing directives inside its objects.
func cleanList(list []any, elem *Schema, path string) ([]any, error) {
	out := make([]any, 0, len(list))
	for i, e := range list {
		switch x := e.(type) {
		case map[string]any:
			if d, ok := x[directiveKey]; ok && d == "delete" {
				continue
			}
			m, err := mergeMap(map[string]any{}, x, elem, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		default:
			out = append(out, DeepCopyJSON(e))
		}
	}
	return out, nil
}

// normalizeOrder orders a merged list as Kubernetes does. The items named
// in order (the patch's own list, or its $setElementOrder) come in that
// order; the other items ("server-only") keep their order in original; the
// two sequences are then interleaved: walking both, a server-only item goes
// first when original has it before the next named item, and a named item
// that original does not have goes first.
func normalizeOrder(merged, order, original []any, key string) []any {
	id := func(v any) (any, bool) {
		if key == "" {
			return v, true
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		k, ok := m[key]
		return k, ok
	}
	index := func(list []any, v any) int {
		want, ok := id(v)
		if !ok {
			return -1
		}
		for i, x := range list {
			if got, ok := id(x); ok && Equal(got, want) {
				return i
			}
		}
		return -1
	}
	var named, serverOnly []any
	for _, m := range merged {
		if index(order, m) >= 0 {
			named = append(named, m)
		} else {
			serverOnly = append(serverOnly, m)
		}
	}
	sort.SliceStable(named, func(i, j int) bool { return index(order, named[i]) < index(order, named[j]) })
	sort.SliceStable(serverOnly, func(i, j int) bool {
		a, b := index(original, serverOnly[i]), index(original, serverOnly[j])
		return a >= 0 && b >= 0 && a < b
	})
	out := make([]any, 0, len(merged))
	i, j := 0, 0
	for i < len(serverOnly) || j < len(named) {
		switch {
		case j >= len(named):
			out = append(out, serverOnly[i])
			i++
		case i >= len(serverOnly):
			out = append(out, named[j])
			j++
		default:
			li, ri := index(original, serverOnly[i]), index(original, named[j])
			if li >= 0 && ri >= 0 && li < ri {
				out = append(out, serverOnly[i])
				i++
			} else {
				out = append(out, named[j])
				j++
			}
		}
	}
	return out
}
