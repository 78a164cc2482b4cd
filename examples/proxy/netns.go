package proxy

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// nsRunner runs functions on one OS thread that sits in a network
// namespace, so that the nft processes it starts (they inherit the
// thread's namespaces) program that namespace and not the process's own.
type nsRunner struct {
	fns  chan func()
	done chan struct{}
}

// startNS starts the thread for the namespace at path.
func startNS(path string) (*nsRunner, error) {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("proxy: network namespace %s: %w", path, err)
	}
	r := &nsRunner{fns: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(r.done)
		defer target.Close()
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ready <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			ready <- fmt.Errorf("proxy: enter network namespace %s: %w", path, err)
			return
		}
		ready <- nil
		for fn := range r.fns {
			fn()
		}
		// Leave the namespace; a thread that cannot go back is not
		// returned to the scheduler (it ends with this goroutine).
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	if err := <-ready; err != nil {
		<-r.done
		return nil, err
	}
	return r, nil
}

// do runs fn in the namespace (or here, for a nil runner) and returns its error.
func (r *nsRunner) do(fn func() error) error {
	if r == nil {
		return fn()
	}
	errc := make(chan error, 1)
	select {
	case r.fns <- func() { errc <- fn() }:
	case <-r.done:
		return errors.New("proxy: network namespace thread stopped")
	}
	return <-errc
}

// stop ends the thread.
func (r *nsRunner) stop() {
	if r != nil {
		close(r.fns)
		<-r.done
	}
}
