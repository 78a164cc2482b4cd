// Package client is how every component of the example cluster reaches
// the apiserver: a kubeconfig (a file or its bytes; client certificates,
// bearer tokens and a CA, as kubectl writes them) becomes a Clientset with
// a typed store/rest client for every served kind and a shared informer
// factory over them. The clients implement store.Interface, so informers,
// controllers and election locks run over HTTP as they do over etcd.
//
// Contract:
//   - New reads the kubeconfig and sends nothing; a bad kubeconfig is an
//     error naming the context, cluster, user or field. Exec plugins, auth
//     providers and basic auth are not supported.
//   - All clients of one Clientset share one HTTP client, so they share its
//     connections and one rate limit: QPS requests per second sustained,
//     Burst at once. A request over the limit waits, within its context's
//     deadline; one that could not be sent in time fails at once without
//     reaching the server.
//   - The informers of Informers are shared: one per resource, namespace
//     and selector, run by the factory's Run until its context
//     ends.
package client
