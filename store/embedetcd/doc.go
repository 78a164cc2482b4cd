// Package embedetcd runs etcd in-process: a single-member Server (the
// examples' default store) or a multi-member Cluster for failure tests.
//
// Servers listen on 127.0.0.1 on random free ports, keep their data in a
// given or temporary directory, log at error level by default, and are
// ready in well under a second. Start returns once the server serves
// requests; Close stops it cleanly and removes a temporary directory. Server
// and Cluster own a client (Client) and, for Server, a store backend
// (Backend) on it.
//
// Note that the etcd server registers its own Prometheus metrics with the
// default registry when it is linked in; setpoint's packages never do.
package embedetcd
