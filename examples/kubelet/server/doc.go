// Package server is the kubelet's own HTTPS API, the one Kubernetes'
// apiserver proxies pods/log, pods/exec, pods/attach, pods/portforward and
// nodes/proxy to.
//
// Endpoints, with Kubernetes' paths and query parameters:
//
//	/containerLogs/<ns>/<pod>/<container>   follow, tailLines, sinceSeconds, sinceTime,
//	                                        timestamps, previous, limitBytes
//	/exec/<ns>/<pod>/[<uid>/]<container>    command (repeated), stdin, stdout, stderr, tty
//	/attach/<ns>/<pod>/[<uid>/]<container>  stdin, stdout, stderr, tty
//	/portForward/<ns>/<pod>[/<uid>]         SPDY/3.1, portforward.k8s.io streams
//	/stats/summary                          the Summary API (stats/v1alpha1) as JSON
//	/metrics/resource                       node, pod and container CPU and working set
//	/pods, /healthz, /metrics               the node's pods, health, the caller's registry
//
// Exec and attach speak the WebSocket channel protocol (subprotocols
// v5.channel.k8s.io and v4.channel.k8s.io): every binary message starts
// with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5
// adds 255, by which the client says it closed a channel, so stdin can
// end). When the process exits the server writes a Status on the error
// channel — Success, or Failure with reason NonZeroExitCode and the exit
// code as the cause ExitCode — and closes the connection. A command that
// cannot be run is a Failure with reason InternalError.
//
// Port-forward speaks SPDY/3.1 (github.com/moby/spdystream) with the
// portforward.k8s.io protocol: for each forwarded connection the client
// opens an error stream and a data stream (headers streamType, port,
// requestID); the data stream is copied to and from the port on the
// sandbox's loopback address; a failure is written on the error stream.
// kubectl 1.32 first asks for SPDY tunnelled in a WebSocket; that request
// is answered 400, and kubectl falls back to the plain SPDY upgrade, as it
// does against kubelets without the tunnel.
//
// Authentication: every request must come with a client certificate that
// chains to Config.ClientCAPEM (else 401) and whose common name is one of
// Config.AllowedClientNames (else 403). Kubernetes' kubelet then asks the
// apiserver to authorize each request (SubjectAccessReview); here the
// allowed names are the authorization: the apiserver has already
// authorized its user for the subresource it proxies.
//
// The serving certificate is Config's, or a self-signed one when none is
// given (a serving-certificate CSR flow is not built yet), which the
// example apiserver, like Kubernetes' by default, does not verify.
//
// Errors before a stream starts are Kubernetes Status objects with
// Kubernetes' kubelet wording: 404 for a pod or container the node does
// not run, 400 for a container that is waiting to start or not running,
// a previous container that does not exist, and bad query parameters.
package server
