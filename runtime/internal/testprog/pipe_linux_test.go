package testprog

import (
	"os"
	"syscall"
	"testing"
)

// fGetPipeSize is F_GETPIPE_SZ (linux/fcntl.h).
const fGetPipeSize = 1032

func TestGrowPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	growPipe(w, 256<<10)
	n, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), fGetPipeSize, 0)
	if errno != 0 || n < 256<<10 {
		t.Fatalf("pipe size after growPipe(256 KiB) = %d (%v)", n, errno)
	}
}
