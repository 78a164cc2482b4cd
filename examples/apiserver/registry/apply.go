package registry

import (
	"fmt"
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
	t, _ := ApplyType(s.k.resource)
	return t
}
