package policy

import "github.com/setpoint-dev/setpoint/store"

// PodDisruptionBudgetResource: poddisruptionbudgets, policy/v1; see
// api.PodResource. Eviction is not a resource of its own: it is posted to
// the pods/eviction subresource.
var PodDisruptionBudgetResource = store.Resource{Name: "poddisruptionbudgets", APIVersion: "policy/v1", Kind: "PodDisruptionBudget", Namespaced: true}
