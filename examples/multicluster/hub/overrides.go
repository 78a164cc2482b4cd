package hub

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	jsonpatch "github.com/evanphx/json-patch/v5"

	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/internal/dynamic"
)

// override is one Localization's or Globalization's overrides, ready to
// apply in order.
type override struct {
	source   string // "globalization g" or "localization ns/l", for errors
	priority int32
	name     string
	spec     mc.OverrideSpec
}

// sortOverrides orders os as they apply: lowest priority first, then by
// name, so a higher priority wins.
func sortOverrides(os []override) {
	slices.SortStableFunc(os, func(a, b override) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.name, b.name))
	})
}

// matches reports whether f names the object r.
func matches(f mc.Feed, r dynamic.Ref) bool {
	return f.APIVersion == r.APIVersion && f.Kind == r.Kind && f.Namespace == r.Namespace && f.Name == r.Name
}

// applyOverrides applies each override whose feed names obj, in order:
// JSON patches by RFC 6902, merge patches by RFC 7386. The result must
// still name the same object. An error names the override at fault.
func applyOverrides(obj []byte, os []override) ([]byte, error) {
	ref, err := dynamic.RefOf(obj)
	if err != nil {
		return nil, err
	}
	for _, o := range os {
		if !matches(o.spec.Feed, ref) {
			continue
		}
		for i, ov := range o.spec.Overrides {
			what := fmt.Sprintf("%s: spec.overrides[%d]", o.source, i)
			if ov.Name != "" {
				what += fmt.Sprintf(" (%s)", ov.Name)
			}
			switch ov.Type {
			case mc.JSONPatchOverride:
				p, err := jsonpatch.DecodePatch([]byte(ov.Value))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", what, err)
				}
				if obj, err = p.Apply(obj); err != nil {
					return nil, fmt.Errorf("%s: applying the JSON patch to %s: %w", what, ref, err)
				}
			case mc.MergePatchOverride:
				if obj, err = jsonpatch.MergePatch(obj, []byte(ov.Value)); err != nil {
					return nil, fmt.Errorf("%s: applying the merge patch to %s: %w", what, ref, err)
				}
			default:
				return nil, fmt.Errorf("%s: type %q is not one of JSONPatch, MergePatch", what, ov.Type)
			}
		}
		if after, err := dynamic.RefOf(obj); err != nil || after != ref {
			return nil, fmt.Errorf("%s: the overrides changed which object %s is (apiVersion, kind, namespace or name)", o.source, ref)
		}
	}
	if !json.Valid(obj) {
		return nil, fmt.Errorf("overrides of %s left invalid JSON", ref)
	}
	return obj, nil
}
