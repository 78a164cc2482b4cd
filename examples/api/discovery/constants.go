package discovery

// Values of AddressType and well-known labels of EndpointSlices, as
// Kubernetes declares them.
const (
	// AddressTypeIPv4, AddressTypeIPv6 and AddressTypeFQDN are the address
	// types of a slice (FQDN is deprecated).
	AddressTypeIPv4 AddressType = "IPv4"
	AddressTypeIPv6 AddressType = "IPv6"
	AddressTypeFQDN AddressType = "FQDN"
	// LabelServiceName names the service a slice belongs to.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelManagedBy names the controller that manages a slice.
	LabelManagedBy = "endpointslice.kubernetes.io/managed-by"
)
