// Package fake is an in-memory runtime.Runtime with the same lifecycle, state
// machine, IDs, labels and errors as the containerd runtime; it passes the
// same contract suite (runtime/runtimetest). Use it in tests of code that
// drives a runtime, and to simulate many nodes in one process: a sandbox or
// a container costs a few kilobytes and a goroutine per running process.
//
// Images are imported from real OCI image archives (image.ReadArchive), so
// the fake knows each image's files and configuration and rejects commands
// the image cannot run. Processes are simulated by Go functions (Program)
// registered per binary path with WithProgram; others run DefaultProgram,
// which waits for a signal. runtimetest.FakeTestBinary simulates the test
// image's program.
//
// A simulated process (Process) has a file system (bind mounts read and
// write the node's files, tmpfs volumes are memory bounded by their size
// limit, the image's files read as empty, the root file system keeps what
// the container writes unless it is read-only), an identity and
// capabilities worked out as the real runtime does for images without
// /etc/passwd (and the seccomp filter, recorded in Process.Cred), a terminal that echoes input and turns "\n" into "\r\n", and
// a network: each sandbox has a simulated namespace where Listen and Dial
// connect processes over in-memory pipes (localhost within the sandbox,
// another sandbox by its IP, from 10.244.0.0/16), whose traffic across
// sandboxes SandboxStats counts. PortForward dials a sandbox's listener;
// DialHostPort stands in for a client of the node reaching a host port.
// Logs are kept in memory in the CRI format.
//
// Hooks make containers misbehave: Exit makes a process exit with a code, as
// if it crashed; Hang makes it ignore SIGTERM; InjectError makes the next
// call of a method fail; a program going over its memory limit with
// Process.UseMemory is OOM-killed (exit 137, ReasonOOMKilled). WithClock
// injects the clock behind timestamps, grace periods and Process.After, so
// tests of stopping never wait for real time. Stats report wall time since
// start as CPU time and 1 MiB plus the program's declared memory. Leftovers
// lists what is still held, for leak checks.
package fake
