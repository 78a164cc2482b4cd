package patch

// MergePatch applies a JSON merge patch (RFC 7386) to doc and returns the
// result. Members set to null in the patch are removed; objects merge
// recursively; every other value, arrays included, replaces the target.
// Errors (malformed JSON) wrap ErrInvalidPatch.
func MergePatch(doc, patch []byte) ([]byte, error) {
	d, err := decode("document", doc)
	if err != nil {
		return nil, err
	}
	p, err := decode("patch", patch)
	if err != nil {
		return nil, err
	}
	return encode(mergeValue(d, p))
}

// ApplyMergePatch is MergePatch on decoded JSON values. doc is not
// modified; the result shares no memory with doc or patch.
func ApplyMergePatch(doc, patch any) any {
	return mergeValue(DeepCopyJSON(doc), patch)
}

// mergeValue merges patch into target, which it may modify.
func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return DeepCopyJSON(patch)
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = make(map[string]any, len(pm))
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}
