package coordination

import "github.com/setpoint-dev/setpoint/election"

// LeaseResource: leases, coordination.k8s.io/v1: the library's
// election.LeaseResource, since the Lease type is election.Lease.
var LeaseResource = election.LeaseResource
