// Package etcdtest starts real embedded etcd servers and clusters for tests,
// like net/http/httptest: each is stopped, and its data removed, when the
// test ends (t.Cleanup). Servers run on random loopback ports, quietly (etcd
// logs at error level), without fsync.
//
// Use Start for a server per test, Shared (with RunMain in TestMain) for one
// server per test binary, and StartCluster for a multi-member cluster whose
// members can be stopped and restarted.
package etcdtest
