package containerdtest

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DeleteBridge takes the bridge device name down and deletes it, as
// `ip link delete` would, so that tests remove the bridges the CNI bridge
// plugin made for them without needing iproute2. A missing device is not an
// error.
func DeleteBridge(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("containerdtest: delete bridge %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return fmt.Errorf("containerdtest: delete bridge %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("containerdtest: delete bridge %s: read flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() &^ unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("containerdtest: delete bridge %s: set down: %w", name, err)
	}
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return fmt.Errorf("containerdtest: delete bridge %s: %w", name, err)
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCBRDELBR, uintptr(unsafe.Pointer(p)))
	if errno != 0 && !errors.Is(errno, unix.ENXIO) && !errors.Is(errno, unix.ENODEV) {
		return fmt.Errorf("containerdtest: delete bridge %s: %w", name, errno)
	}
	return nil
}
