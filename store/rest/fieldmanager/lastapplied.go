package fieldmanager

import (
	"encoding/json"
	"fmt"
	"github.com/setpoint-dev/setpoint/store/rest/patch"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/merge"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// LastAppliedAnnotation is where client-side apply (kubectl apply without
// --server-side) keeps the configuration it last applied.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// lastAppliedManager is the manager whose applies honour and maintain
// LastAppliedAnnotation: kubectl's default for --server-side.
const lastAppliedManager = "kubectl"

// annotations returns obj's metadata.annotations, or nil.
func annotations(obj map[string]any) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	a, _ := md["annotations"].(map[string]any)
	return a
}

// lastAppliedFields returns the fields of live's last-applied
// configuration whose values live still has: those client-side apply set
// and nobody changed since, which server-side apply may take over. nil if
// there is no usable annotation.
func (m *Manager) lastAppliedFields(live map[string]any, lt *typed.TypedValue) *fieldpath.Set {
	s, _ := annotations(live)[LastAppliedAnnotation].(string)
	if s == "" {
		return nil
	}
	last, err := DecodeJSON([]byte(s))
	if err != nil {
		return nil
	}
	lm, ok := last.(map[string]any)
	if !ok || lm["apiVersion"] != m.cfg.APIVersion {
		return nil
	}
	ltv, err := m.cfg.Type.FromUnstructured(lm)
	if err != nil {
		return nil
	}
	set, err := ltv.ToFieldSet()
	if err != nil {
		return nil
	}
	cmp, err := ltv.Compare(lt)
	if err != nil {
		return nil
	}
	return set.Difference(cmp.Modified).Difference(cmp.Added).Difference(cmp.Removed)
}

// outside returns the conflicts whose fields are not in allowed.
func outside(cs merge.Conflicts, allowed *fieldpath.Set) merge.Conflicts {
	var out merge.Conflicts
	for _, c := range cs {
		if allowed == nil || !allowed.Has(c.Path) {
			out = append(out, c)
		}
	}
	return out
}

// updateLastApplied keeps LastAppliedAnnotation of an object that has one
// equal to the configuration just applied (without the annotation
// itself), so that a later client-side apply computes its patch from what
// was really applied last. out is the merged object, nil if unchanged
// from live; the result is likewise.
func updateLastApplied(live, out, config map[string]any) (map[string]any, error) {
	if s, _ := annotations(live)[LastAppliedAnnotation].(string); s == "" {
		return out, nil
	}
	c := config
	if a := annotations(config); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			c = copyWithoutLastApplied(config)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("fieldmanager: encoding the last-applied configuration: %w", err)
	}
	target := out
	if target == nil {
		target = live
	}
	if annotations(target)[LastAppliedAnnotation] == string(b) {
		return out, nil
	}
	target = patch.DeepCopyJSON(target).(map[string]any)
	md, _ := target["metadata"].(map[string]any)
	a, _ := md["annotations"].(map[string]any)
	if a == nil {
		return out, nil // the merge removed the annotation: leave it removed
	}
	a[LastAppliedAnnotation] = string(b)
	return target, nil
}

// copyWithoutLastApplied copies config's top level and metadata without
// the last-applied annotation.
func copyWithoutLastApplied(config map[string]any) map[string]any {
	c := make(map[string]any, len(config))
	for k, v := range config {
		c[k] = v
	}
	md := map[string]any{}
	for k, v := range config["metadata"].(map[string]any) {
		md[k] = v
	}
	a := map[string]any{}
	for k, v := range md["annotations"].(map[string]any) {
		if k != LastAppliedAnnotation {
			a[k] = v
		}
	}
	md["annotations"] = a
	c["metadata"] = md
	return c
}
