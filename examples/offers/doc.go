// Package offers is the first level of two-level scheduling, Mesos-style:
// an Allocator offers nodes' free resources to frameworks (second-level
// schedulers, each of which decides what to launch on what it is offered)
// by weighted hierarchical Dominant Resource Fairness, and keeps the books
// of offers and allocations. It is a pure, deterministic core over
// in-memory state and an injectable clock. Controller serves it through
// the apiserver (below).
//
// # Rules followed
//
// Dominant Resource Fairness (Ghodsi et al., "Dominant Resource Fairness:
// Fair Allocation of Multiple Resource Types", NSDI 2011): a framework's
// dominant share is the largest fraction of the cluster's total of any one
// resource that it holds; progressive filling repeatedly gives the
// framework of least dominant share (divided by its weight, for weighted
// DRF) one task's worth, until no framework's next task fits.
//
// Hierarchy, as Mesos' hierarchical DRF allocator does it: shares are
// compared between roles first (a role's share is that of everything its
// frameworks hold, divided by the role's weight), then between the
// frameworks of the chosen role. Offered resources count as held, as in
// Mesos, so a pending offer weighs on its framework's share.
//
// Where this differs from Mesos, and why: Mesos offers a node's whole free
// resources to one framework per cycle. A framework that declares
// TaskResources is offered here in task increments instead (one offer per
// framework and node per cycle, holding as many tasks as progressive
// filling gave it), so that one cycle splits a node between frameworks
// exactly as DRF does; a framework that declares no task size is offered a
// node's whole available resources, as in Mesos. Nodes are visited in name
// order, not shuffled, so the result is deterministic; ties between equal
// shares go to the lesser name.
//
// # Contract
//
//   - Offered resources are held: they are offered to no one else and
//     counted on their node until the offer is accepted, declined, expires
//     or is rescinded. No node is ever offered or allocated beyond its
//     allocatable, counting pods placed by others (SetNodeUsed, which
//     refuses a value that would overcommit); Check verifies it.
//   - Roles: a quota is an upper bound on what the role's frameworks hold
//     (allocated and offered); a reservation holds resources on a named
//     node for the role, never offered to other roles.
//   - Accept takes an offer made to the calling framework, still pending
//     and unexpired, and tasks whose sum fits in it; the tasks' resources
//     become the framework's allocation on the node, and the remainder
//     returns to the pool. Otherwise it fails with ErrUnknownOffer,
//     ErrForeignOffer, ErrOfferExpired, ErrOfferClosed or ErrExceedsOffer
//     (the message names the offer and the resource) and changes nothing.
//   - Decline with a refuse duration: the framework is not offered that
//     node again before it passes (Mesos' refuse_seconds filter).
//   - Offers expire OfferTimeout after they are made, and the framework is
//     then filtered from that node for ExpiredRefuse, so the resources go
//     to the next framework. A framework that
//     holds an offer for HoardCycles cycles without accepting anything is
//     hoarding: its offers are rescinded and it sits out as many cycles.
//     RemoveNode rescinds the node's offers and ends its tasks'
//     allocation; Unregister (a framework crashed or left) rescinds its
//     offers, while its tasks keep running and stay counted until Release.
//   - Metrics (on the caller's registry): setpoint_offers_made_total,
//     _accepted_total, _declined_total, _rescinded_total{reason} and the
//     gauge setpoint_offers_dominant_share per framework.
//
// # The second level
//
// A Driver is a framework's side in process (package
// examples/offers/framework is the same over the apiserver): it registers
// the framework with a Master (Registry plus Offerer; *Allocator implements it in process),
// delivers its offers once each on a channel, accepts them with Tasks
// (launched through the caller's Launcher) or declines them with a refuse
// filter, and delivers task status updates; a task's terminal status
// releases its resources. When Run's context ends the framework is
// unregistered: its offers are rescinded, its tasks keep running.
//
// All methods are safe for concurrent use (one lock). FailoverTimeout in a
// Framework's spec is not acted on here: killing an absent framework's
// tasks is the serving layer's job.
//
// # Over the API
//
// The apiserver serves the offers.setpoint.dev/v1alpha1 group through
// apiserver.Config.ExtraKinds with FrameworkKind and OfferKind (the
// example cluster does): kubectl get frameworks shows ROLE, WEIGHT and
// DOMINANT SHARE; kubectl get offers NODE, FRAMEWORK, CPU, MEMORY,
// EXPIRES and PHASE.
//
// Controller (ControllerConfig, NewController, Run) is the allocator as a
// leader-elected component: while it holds its Lease it feeds a fresh
// Allocator from informers of Nodes, Pods and Frameworks (pods bound by
// anyone else count as used on their node), runs a cycle on every change
// and every CycleInterval, creates each offer as an Offer object (status
// Pending; named by a random prefix of the term and the allocator's ID,
// as IDs restart with each term) and writes its end (Expired, Rescinded with the reason), and
// writes each Framework's status (registered, dominant share, allocated).
// A framework accepts an offer by naming its task pods (namespace/name,
// spec.schedulerName = the framework's name, unbound) in the Offer's
// spec.tasks; the controller binds them to the offered node through
// pods/binding if the allocator accepts them, and otherwise binds none
// and writes status.reason Rejected with the allocator's error (tasks
// beyond the offer, an expired or closed offer, a task of another
// framework); the offer stays pending, so the framework may name other
// tasks. A framework declines an offer by setting spec.decline
// (refuseSeconds: default 5 as Mesos' refuse_seconds, 0 to one year): the
// offer is written Declined, its resources return to the pool and the
// framework is not offered the node again before the refuse time has
// passed on the controller's clock. A task pod that ends or is deleted
// releases its resources. The pods of all offers accepted in a round are
// bound together, 32 bindings at a time. An ended Offer object (Accepted,
// Declined, Expired, Rescinded) is deleted OfferRetention (default 10
// minutes) after its expiry time, so ended offers do not pile up in etcd.
// Every write is made with the leader's context and so carries its
// fence: a deposed leader's writes fail with store.ErrFenced.
//
// Frameworks' liveness: a framework whose driver (package
// examples/offers/framework) holds a Lease named FrameworkLeaseName in
// FrameworkLeaseNamespace is connected while the controller sees that
// Lease renewed within its duration (timed on the controller's clock from
// when it saw each change, as Kubernetes' node lifecycle controller times
// node Leases) and its holder is set; once not, the framework is
// unregistered: its offers are rescinded (FrameworkRemoved), its tasks
// keep running and stay counted, and its status says Registered false. A
// framework without a Lease (registered by hand) is connected while its
// Framework object exists. Allocation cycles run every CycleInterval and
// when nodes or frameworks come or go; accepts, declines and pod changes
// are answered at once without a cycle, so a framework busy accepting is
// not taken for hoarding by a burst of cycles.
//
// Not done yet: a new leader starts from an empty allocator, rescinding
// the last term's pending offers (reason LeaderChanged) and counting the
// tasks bound before it as used rather than as their framework's
// allocation; the Kubernetes-style scheduler does not see offers, so it can
// book resources held by a pending offer (the allocator's SetNodeUsed
// then refuses and the controller logs it until the offer ends). An
// accept is checked against a fresh list of the node's bound pods, so
// such an offer's tasks are rejected (ErrOvercommit) rather than bound
// beyond the node's allocatable; a window remains between that read and
// the bindings, which the kubelet's admission closes.
package offers
