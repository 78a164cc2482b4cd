package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/fieldmanager"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// applyTypes converts the served OpenAPI document once into the
// server-side apply schema of every kind. The document is the source of
// truth for list and map semantics (x-kubernetes-list-type, map-type,
// and the patch strategy where no list type is given).
var applyTypes = sync.OnceValues(func() (*fieldmanager.Types, error) {
	doc, err := OpenAPIV2()
	if err != nil {
		return nil, err
	}
	return fieldmanager.NewTypes(doc)
})

// extraApplyType is the apply type of a kind of the library user's own,
// from a Swagger 2.0 document of its schemas and those they refer to.
func extraApplyType(r store.Resource, own map[string]any) (typed.ParseableType, error) {
	all, err := withBuiltins(own)
	if err != nil {
		return typed.ParseableType{}, err
	}
	defs, err := closure(all, slices.Collect(maps.Keys(own)))
	if err != nil {
		return typed.ParseableType{}, fmt.Errorf("registry: the apply schema of %s: %w", r.Kind, err)
	}
	v2 := map[string]any{}
	for n, s := range defs {
		v2[n] = toV2(s)
	}
	doc, err := json.Marshal(map[string]any{"swagger": "2.0", "info": map[string]string{"title": r.Kind, "version": "v1"},
		"paths": map[string]any{}, "definitions": v2})
	if err != nil {
		return typed.ParseableType{}, err
	}
	types, err := fieldmanager.NewTypes(doc)
	if err != nil {
		return typed.ParseableType{}, fmt.Errorf("registry: the apply schema of %s: %w", r.Kind, err)
	}
	t, ok := types.Kind(r.APIVersion, r.Kind)
	if !ok {
		return typed.ParseableType{}, fmt.Errorf("registry: no schema of %s %s is tagged with its group, version and kind", r.APIVersion, r.Kind)
	}
	return t, nil
}

// ApplyType returns the server-side apply type of a served kind: the
// definition tagged with its group, version and kind in the OpenAPI
// document. It is the one place that ties a kind to its apply schema.
func ApplyType(r store.Resource) (typed.ParseableType, error) {
	types, err := applyTypes()
	if err != nil {
		return typed.ParseableType{}, fmt.Errorf("registry: the apply schema: %w", err)
	}
	t, ok := types.Kind(r.APIVersion, r.Kind)
	if !ok {
		return typed.ParseableType{}, fmt.Errorf("registry: the OpenAPI document has no %s %s", r.APIVersion, r.Kind)
	}
	return t, nil
}

// ApplyType is the kind's server-side apply type (rest.ApplyTypeProvider).
// A kind missing from the schema (which a registry test rules out) gets
// the zero type, which the REST handler replaces with the deduced one.
func (s strategy[T]) ApplyType() typed.ParseableType {
	if s.k.ownSchemas != nil {
		t, _ := s.k.applyType()
		return t
	}
	t, _ := ApplyType(s.k.resource)
	return t
}
