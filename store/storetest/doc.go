// Package storetest is the contract suite of store.Backend and of the typed
// store.Store. Every backend must pass RunBackend; RunStore checks the typed
// store's behaviour (validation that writes nothing, compare-and-swap,
// finalizers, GuaranteedUpdate without lost updates, selectors, paging with
// continue tokens, watches, fences) over any backend. Both setpoint backends
// (memory and etcd) run both suites:
//
//	func TestContract(t *testing.T) {
//		storetest.RunBackend(t, func(t *testing.T) store.Backend { return memory.New() })
//	}
//
// Suites may share one server between subtests: each subtest uses its own key
// prefix. They run sequentially, and one subtest of each compacts the store.
package storetest
