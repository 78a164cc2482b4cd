// Package runtimetest is the contract suite every runtime.Runtime passes: Run
// drives an implementation through images and image status, sandboxes (host
// name and DNS files, host ports, network statistics), the container state
// machine, exit codes, logs (tail, follow, since, timestamps, byte limit,
// stream, previous attempts), stop with a grace period (timed on a
// clockwork fake clock the suite hands to Harness.New, so no test waits for
// the grace period), mounts and tmpfs
// volumes, security contexts, resources as the container's cgroup shows
// them, streaming exec (with stdin and a TTY), attach (stdin, stdinOnce,
// TTY resize), port forwarding, bad input (with a leak check), listing by
// labels and racing creators.
//
// The suite runs a small static test program (testbin, built with
// CGO_ENABLED=0 on first use with image.BuildGo, so the go command must be
// on PATH) in images made with runtime/image. Its arguments are a script of
// steps (see Script): besides printing, exiting and sleeping, it serves TCP
// and HTTP (host name, /healthz, /readyz, /code/N), traps SIGTERM, reads
// and writes files, reports its identity, capabilities, cgroup limits and
// terminal. Kubelet, cluster and demo tests use the same images
// (TestImageArchive, TestImageWithUser); FakeTestBinary interprets the same
// scripts on the fake runtime.
//
// # The test program
//
// A script is a list of steps, each a word followed by its arguments:
//
//	print TEXT        write TEXT and a newline to stdout
//	eprint TEXT       write TEXT and a newline to stderr
//	fill KIB          write KIB kibibytes to stdout: lines of 63 'o' and a newline
//	                  (first growing a pipe stdout to hold them, up to 1 MiB)
//	efill KIB         the same on stderr, with lines of 'e'
//	count N           print the numbers 1 to N, one a line
//	env KEY           print the value of the environment variable KEY
//	sleep DURATION    sleep (a time.ParseDuration string)
//	ignore-term       ignore SIGTERM from now on
//	on-term DURATION  on SIGTERM from now on, print "terminating", wait DURATION, exit 0
//	serve ADDR        answer every TCP connection on ADDR with "pong\n" (in the background)
//	http ADDR         serve HTTP on ADDR in the background: / answers the host name,
//	                  /healthz "ok", /readyz 200 unless /tmp/not-ready exists (503),
//	                  /code/N status N
//	get ADDR          connect to ADDR (retrying until it answers) and print the first line read
//	alloc MIB         allocate and touch MIB mebibytes of memory
//	cat PATH          print the file's contents
//	write PATH TEXT   write TEXT to the file; print "wrote PATH" or "write PATH: ERROR"
//	wfill PATH KIB    write KIB kibibytes to the file; print as write does
//	rm PATH           remove the file; print "rm PATH: ERROR" on failure
//	hostname          print the host name
//	id                print "uid=U gid=G groups=G1,G2" (supplementary groups, sorted)
//	caps              print "capeff=HEX nnp=0|1" (effective capabilities, no_new_privs)
//	seccomp           print "seccomp=MODE" (/proc/self/status: 0 no filter, 2 a filter)
//	limits            print "memory=M pids=P cfs=QUOTA/PERIOD shares=S" (or "weight=W"
//	                  on cgroup v2), "max" for no limit
//	tty               print "tty" when stdout is a terminal, else "notty"
//	winsize W H       wait (up to 20s) until the terminal is W columns by H rows,
//	                  then print "winsize WxH" (exit 1 on timeout)
//	stdin             print "stdin: LINE" for each line read until end of input,
//	                  then "stdin: EOF"
//	wait              block until signalled
//	exit CODE         exit with CODE
//
// Reaching the end of the script exits 0. SIGTERM (unless ignored) exits 143,
// a kill exits 137, as a signalled process is reported by the runtime.
package runtimetest
