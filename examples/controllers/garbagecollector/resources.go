package garbagecollector

import (
	"github.com/setpoint-dev/setpoint/examples/client"
)

// trackAll follows every resource the example apiserver serves whose
// objects commonly have owners. Add a resource here when the apiserver
// starts serving it (jobs, controller revisions, config maps, ...): the
// collector waits for every tracked informer to sync.
func trackAll(g *Collector, cs *client.Clientset) error {
	f := cs.Informers()
	for _, add := range []func() error{
		func() error { return track(g, f, cs.Pods()) },
		func() error { return track(g, f, cs.ReplicaSets()) },
		func() error { return track(g, f, cs.ReplicationControllers()) },
		func() error { return track(g, f, cs.Deployments()) },
		func() error { return track(g, f, cs.StatefulSets()) },
		func() error { return track(g, f, cs.DaemonSets()) },
		func() error { return track(g, f, cs.Services()) },
		func() error { return track(g, f, cs.Endpoints()) },
	} {
		if err := add(); err != nil {
			return err
		}
	}
	return nil
}

// Resources returns the names of the resources the collector follows.
func (g *Collector) Resources() []string {
	out := make([]string, len(g.resources))
	for i, t := range g.resources {
		out[i] = t.res.Name
	}
	return out
}
