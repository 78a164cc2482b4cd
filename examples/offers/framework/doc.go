// Package framework is the second level of two-level scheduling over the
// apiserver: the library with which a framework (a Mesos-style scheduler
// of its own tasks) is written against the allocator that
// examples/offers' Controller runs. It has the shape of offers.Driver,
// the in-process driver, with the cluster in place of the Master and the
// Launcher:
//
//   - Run registers the framework: it creates its Framework object (or
//     updates the spec of an existing one, a failover) and holds its
//     liveness Lease, offers.FrameworkLeaseName, renewing it every third
//     of Config.LeaseDuration.
//   - Offers delivers each pending Offer made to the framework once,
//     oldest first, from a watch of Offers (field selector
//     spec.framework).
//   - Accept(ctx, offer, tasks) creates each task's pod (unbound,
//     spec.schedulerName the framework's name, labelled LabelFramework
//     and LabelTask, requests and limits the task's resources), names them
//     in the offer's spec.tasks, and waits for the allocator, which binds
//     them to the offered node. A rejected accept (tasks beyond the offer,
//     an offer that expired, was rescinded or belongs to another
//     framework) returns ErrRejected with the allocator's reason, and the
//     driver deletes the pods it made: nothing is launched.
//   - Decline(ctx, offer, refuse) writes spec.decline with refuseSeconds:
//     the framework is not offered that node again for refuse (Mesos'
//     refuse_seconds filter).
//   - Statuses delivers task status updates from a watch of the task pods:
//     Staging once bound, Running, then Finished (Succeeded), Failed, or
//     Lost if the pod was deleted before it ended. Updates not yet read
//     are coalesced per task, so memory is bounded by the tasks.
//
// When Run's context ends the driver releases its Lease (holder empty), and
// the allocator rescinds the framework's offers at once; its tasks keep
// running. A framework that crashes stops renewing: once the allocator has
// not seen the Lease change for its duration (timed on the allocator's
// clock, as Kubernetes' node lifecycle controller times node Leases) it
// rescinds the offers likewise, and the tasks keep running. A restarted
// driver of the same name takes them back.
//
// Subpackages batch and service are two frameworks written on it: batch
// packs short tasks onto as few nodes as it can, service spreads
// long-running replicas across nodes.
package framework
