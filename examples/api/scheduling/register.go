package scheduling

import "github.com/setpoint-dev/setpoint/store"

// PriorityClassResource: priorityclasses, scheduling.k8s.io/v1,
// cluster-scoped; see api.PodResource.
var PriorityClassResource = store.Resource{Name: "priorityclasses", APIVersion: "scheduling.k8s.io/v1", Kind: "PriorityClass"}
