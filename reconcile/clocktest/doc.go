// Package clocktest provides a fake reconcile.Clock for tests.
//
// Contract: time stands still until the test moves it with Step or SetTime.
// Timers, tickers and AfterFunc callbacks fire as time passes their
// deadlines, in deadline order (ties in the order they were armed), before
// Step or SetTime returns; AfterFunc callbacks run in the goroutine that moves
// the clock. Nothing fires early and nothing depends on the wall clock, so
// tests never sleep: they wait for the code under test to arm its timers with
// WaitForWaiters (or poll HasWaiters), then step. The clock is safe for
// concurrent use.
package clocktest
