// Package batch is an example framework on examples/offers/framework: it
// runs a set of short tasks, packing them onto as few nodes as it can.
//
// Each offer (one node's resources held for it) is filled with as many
// of the waiting tasks as fit, largest offer first among those pending at
// once, and an offer that takes none is declined with a refuse filter;
// so a node is filled before the next is used, as a bin-packing batch
// scheduler does (Mesos' batch frameworks accept whole offers the same
// way). A task that fails or is lost waits to be launched again; Run
// returns once every task has finished.
package batch
