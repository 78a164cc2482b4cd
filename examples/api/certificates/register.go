package certificates

import "github.com/setpoint-dev/setpoint/store"

// CertificateSigningRequestResource: certificatesigningrequests,
// certificates.k8s.io/v1, cluster-scoped; see api.PodResource.
var CertificateSigningRequestResource = store.Resource{Name: "certificatesigningrequests", APIVersion: "certificates.k8s.io/v1", Kind: "CertificateSigningRequest"}
