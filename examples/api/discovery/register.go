package discovery

import "github.com/setpoint-dev/setpoint/store"

// EndpointSliceResource: endpointslices, discovery.k8s.io/v1, the resource the
// example apiserver serves EndpointSlice as; see api.PodResource.
var EndpointSliceResource = store.Resource{Name: "endpointslices", APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice", Namespaced: true}
