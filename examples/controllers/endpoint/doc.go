// Package endpoint is the example cluster's Endpoints controller (core
// v1): for every Service with a selector it writes an Endpoints object of
// the same name listing the service's pods, as Kubernetes' endpoints
// controller ("endpoint" in kube-controller-manager --controllers) does,
// for the clients that still read v1 Endpoints.
//
// Rules followed: a pod is listed when it has an address and has not
// finished, and while terminating only if the service sets
// publishNotReadyAddresses; Ready pods go to addresses and the others to
// notReadyAddresses (every pod is ready with publishNotReadyAddresses);
// named target ports resolve per pod and addresses with the same ports
// share a subset; hostname is set for pods naming the service as their
// subdomain; nodeName and a Pod targetRef are set; at most MaxAddresses
// (1000) addresses are kept, ready ones first, and a truncated object is
// annotated endpoints.kubernetes.io/over-capacity=truncated. The object
// carries the service's labels and service.kubernetes.io/headless for a
// headless service. It is written only when it changes, with
// compare-and-swap on its resourceVersion; it is deleted when the service
// goes. Endpoints of services without a selector are the user's and are
// never touched.
//
// Difference from Kubernetes: Endpoints this controller wrote carry the
// label endpoints.setpoint.dev/managed, so that after the service is gone
// the controller can tell its own objects from a user's; the
// EndpointsLastChangeTriggerTime annotation is not written.
package endpoint
