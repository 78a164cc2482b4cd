// Package logfile writes and reads container logs in the CRI log format
// (the format the kubelet reads from every CRI runtime): one entry per line
// of output,
//
//	<time RFC3339Nano> <stdout|stderr> <F|P> <text>
//
// F marking a complete line and P a part of one: a line longer than MaxLine
// is cut into P entries and a final F, and text still waiting for its
// newline when a writer stops is written as P (or F when the stream ended).
//
// Writer turns a process's streams into entries; Reader reads them back with
// the options of runtime.LogOptions (tail, since, timestamps, byte limit,
// stream, follow) from any Source: a file the runtime appends to, or memory.
package logfile
