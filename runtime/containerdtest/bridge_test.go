package containerdtest_test

import (
	"net"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
)

// addBridge makes a bridge with the kernel's bridge ioctl and brings it up.
func addBridge(t *testing.T, name string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	p, _ := unix.BytePtrFromString(name)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCBRADDBR, uintptr(unsafe.Pointer(p))); errno != 0 {
		t.Fatalf("add bridge %s: %v", name, errno)
	}
	ifr, _ := unix.NewIfreq(name)
	unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr)
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("set %s up: %v", name, err)
	}
}

func TestDeleteBridge(t *testing.T) {
	if err := containerdtest.DeleteBridge("sptnosuchbr0"); err != nil {
		t.Fatalf("deleting a missing bridge: %v", err)
	}
	const name = "sptdelbrtest"
	addBridge(t, name)
	t.Cleanup(func() { containerdtest.DeleteBridge(name) })
	if _, err := net.InterfaceByName(name); err != nil {
		t.Fatalf("bridge %s was not made: %v", name, err)
	}
	if err := containerdtest.DeleteBridge(name); err != nil {
		t.Fatal(err)
	}
	if _, err := net.InterfaceByName(name); err == nil {
		t.Fatalf("bridge %s still exists", name)
	}
}
