// Package fake is an in-memory runtime.Runtime with the same lifecycle, state
// machine, IDs, labels and errors as the containerd runtime; it passes the
// same contract suite (runtime/runtimetest). Use it in tests of code that
// drives a runtime, and to simulate many nodes in one process.
//
// Images are imported from real OCI image archives (image.ReadArchive), so
// the fake knows each image's files and configuration and rejects commands
// the image cannot run. Processes are simulated by Go functions (Program)
// registered per binary path with WithProgram; others run DefaultProgram,
// which waits for a signal. Sandboxes get IPs from 10.244.0.0/16.
//
// Hooks make containers misbehave: Exit makes a process exit with a code, as
// if it crashed; Hang makes it ignore SIGTERM; InjectError makes the next
// call of a method fail; a program going over its memory limit with
// Process.UseMemory is OOM-killed (exit 137, ReasonOOMKilled). WithClock
// injects the clock behind timestamps and grace periods, so tests of
// stopping never wait for real time. Stats report
// wall time since start as CPU time and 1 MiB plus the program's declared
// memory.
package fake
