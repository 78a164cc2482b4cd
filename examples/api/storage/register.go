package storage

import "github.com/setpoint-dev/setpoint/store"

// StorageClassResource: storageclasses, storage.k8s.io/v1, cluster-scoped;
// see api.PodResource.
var StorageClassResource = store.Resource{Name: "storageclasses", APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"}
