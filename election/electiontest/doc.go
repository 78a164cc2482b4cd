// Package electiontest provides test helpers for package election: a fake
// Clock whose time moves only when the test says so, so tests of lease expiry,
// clock skew and clock drift never sleep.
package electiontest
