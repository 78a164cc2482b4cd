// Package tunnel is the wire contract between the multi-cluster hub
// (examples/multicluster/hub) and its agents (examples/multicluster/agent),
// and the agent's end of the tunnel.
//
// The agent keeps one outbound WebSocket connection to the hub at
// ConnectPath, so a child cluster behind NAT needs no inbound port. Over
// it, github.com/hashicorp/yamux (the stream multiplexer of Consul, Nomad
// and Vault) carries many streams, which only the hub opens; the agent
// connects each to the child apiserver and performs the TLS handshake
// there with its own client certificate. The hub therefore sends plain HTTP into the stream
// (the tunnel itself is TLS), never learns the agent's credentials, and
// passes the caller's identity on with Kubernetes impersonation headers,
// which the child checks against the agent's right to impersonate and then
// against the impersonated user's own RBAC.
//
// Heartbeats travel separately, as an HTTPS POST of the child's
// ManagedClusterStatus to HeartbeatPath, so a heartbeat proves the agent
// reaches the hub and a dropped tunnel is noticed on its own.
//
// Why not github.com/rancher/remotedialer, which Clusternet uses: its
// v0.4.0 (the newest that builds here) has data races the race detector
// reports in ordinary use — its ping and pong handlers set the WebSocket
// write deadline outside the lock its writers hold, and a connection's
// error is read and written without synchronization (upstream issue
// rancher/remotedialer#254, still open for v0.6.1). bench/ measures
// remotedialer carrying the same requests (mc-tunnel-get) as the anchor.
//
// Contract: a stream reaches the child apiserver and nothing else (the
// hub cannot name another address), authenticated to the child as the
// agent; the tunnel ends when either side closes it or its keep-alive
// fails, and Session.Done reports it.
package tunnel
