package events

import "github.com/setpoint-dev/setpoint/store"

// EventResource: events, events.k8s.io/v1; see api.PodResource. The
// apiserver keeps these and core v1 events as one set of objects.
var EventResource = store.Resource{Name: "events", APIVersion: "events.k8s.io/v1", Kind: "Event", Namespaced: true}
