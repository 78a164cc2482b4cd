// Package runtimetest is the contract suite every runtime.Runtime passes: Run
// drives an implementation through images, sandboxes, the container state
// machine, exit codes, logs (tail and follow), stop with a grace period
// (timed on a clockwork fake clock the suite hands to Harness.New, so no
// test waits for the grace period), exec, stats and limits, bad input (with a leak check), listing by labels
// and racing creators.
//
// The suite runs a small static test program (testbin, built with
// CGO_ENABLED=0 on first use, so the go command must be on PATH) in an image
// made with runtime/image. Its arguments are a script of steps (see Script);
// the fake runtime interprets the same script in process.
package runtimetest
