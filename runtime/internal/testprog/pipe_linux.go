package testprog

import (
	"io"
	"os"
	"syscall"
)

// fSetPipeSize is F_SETPIPE_SZ (linux/fcntl.h).
const fSetPipeSize = 1031

// growPipe makes w, when it is a pipe, hold n bytes (the kernel caps this
// at /proc/sys/fs/pipe-max-size, 1 MiB by default), so that what the
// program writes last is still in the pipe when it exits. Errors are
// ignored: w may be a file or a terminal.
func growPipe(w io.Writer, n int) {
	if f, ok := w.(*os.File); ok {
		syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSize, uintptr(n))
	}
}
