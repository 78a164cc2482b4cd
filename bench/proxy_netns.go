package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
)

// benchNS is a network namespace a proxy benchmark created; close removes
// it (and with it every link, nft table and iptables chain inside).
type benchNS struct{ name string }

// newBenchNS adds a namespace named after tag with its loopback up.
func newBenchNS(tag string) (*benchNS, error) {
	b := make([]byte, 3)
	rand.Read(b)
	n := &benchNS{name: "spbench-" + tag + "-" + hex.EncodeToString(b)}
	if err := sh("ip", "netns", "add", n.name); err != nil {
		return nil, err
	}
	if err := sh("ip", "-n", n.name, "link", "set", "lo", "up"); err != nil {
		return nil, errors.Join(err, n.close())
	}
	return n, nil
}

// path is the namespace's bind mount, as proxy.Config.NetNS takes it.
func (n *benchNS) path() string { return "/run/netns/" + n.name }

func (n *benchNS) close() error { return sh("ip", "netns", "del", n.name) }

// exec runs a command inside the namespace and returns its stdout.
func (n *benchNS) exec(args ...string) ([]byte, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// sh runs a command in the bench's own namespace.
func sh(args ...string) error {
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// inNetNS runs fn on an OS thread that sits in the namespace at path, so
// that the netlink sockets it opens and the processes it starts (nft)
// belong to that namespace. The thread goes back to the original
// namespace afterwards (or, if it cannot, ends with the goroutine).
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- fmt.Errorf("enter %s: %w", path, err)
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
