package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Names of the server's components, for Kill.
const (
	ComponentAPIServer         = "apiserver"
	ComponentControllerManager = "controller-manager"
	ComponentScheduler         = "scheduler"
	ComponentServiceLB         = "servicelb"
	ComponentDNS               = "dns"
)

// NodeComponent returns the component name of node name's kubelet (and
// proxy), for Kill: "node/<name>".
func NodeComponent(name string) string { return "node/" + name }

// ErrUnknownComponent is returned by Kill for a name the server does not
// run (or before it runs it).
var ErrUnknownComponent = errors.New("cluster: unknown component")

// errRestart, returned by a component's run function, asks its
// supervisor to start it again (a controller-manager that lost its
// lease, as kube-controller-manager exits to be restarted).
var errRestart = errors.New("cluster: restart")

// slot is one supervised component: the running instance's cancel
// function and a channel closed when it returned.
type slot struct {
	cancel  context.CancelFunc
	done    chan struct{}
	restart bool // set by Kill before it cancels
}

// supervise runs run until ctx ends, a new instance each time the one
// before was killed (Kill) or asked for a restart (errRestart). It returns
// nil when ctx ended or the component was stopped for good (StopNode),
// else the error that ended it.
func (s *Server) supervise(ctx context.Context, name string, run func(context.Context) error) error {
	for {
		cctx, cancel := context.WithCancel(ctx)
		sl := &slot{cancel: cancel, done: make(chan struct{})}
		s.mu.Lock()
		s.slots[name] = sl
		s.mu.Unlock()
		err := run(cctx)
		cancel()
		s.mu.Lock()
		restart := sl.restart || errors.Is(err, errRestart)
		if !restart {
			delete(s.slots, name)
		}
		s.mu.Unlock()
		close(sl.done)
		switch {
		case ctx.Err() != nil:
			return ignoreCanceled(ctx, err)
		case restart:
			s.log.Warn("restarting component", "component", name, "err", err)
			continue
		case cctx.Err() != nil: // stopped for good
			return ignoreCanceled(cctx, err)
		case err == nil:
			return fmt.Errorf("cluster: %s stopped unexpectedly", name)
		default:
			return err
		}
	}
}

// Kill stops the running component name abruptly, as kill -9 stops a
// process: its context is canceled and nothing is handed over (a killed
// node leaves its containers, bridge and files, so its successor adopts
// them). The server's supervisor then starts a new instance, as systemd
// or a kubelet restarts a killed component. Kill returns once the killed
// instance has returned. Names: ComponentAPIServer,
// ComponentControllerManager, ComponentScheduler, ComponentServiceLB,
// ComponentDNS, NodeComponent(node).
func (s *Server) Kill(ctx context.Context, name string) error {
	return s.stop(ctx, name, true)
}

// stop cancels the component name's running instance and waits until it
// returned; restart says whether its supervisor starts a new one.
func (s *Server) stop(ctx context.Context, name string, restart bool) error {
	s.mu.Lock()
	sl := s.slots[name]
	if sl == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w %q", ErrUnknownComponent, name)
	}
	sl.restart = restart
	if node, ok := strings.CutPrefix(name, "node/"); ok && restart {
		for _, n := range s.nodes {
			if n.Name() == node {
				n.abandon()
			}
		}
	}
	s.mu.Unlock()
	sl.cancel()
	select {
	case <-sl.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
