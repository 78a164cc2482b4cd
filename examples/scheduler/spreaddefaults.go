package scheduler

import (
	"maps"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// groupListers are the caches defaultSelector reads: the objects that
// may select a pod.
type groupListers struct {
	services    func(namespace string) []*api.Service
	controller  func(namespace, name string) (*api.ReplicationController, bool)
	replicaSet  func(namespace, name string) (*apps.ReplicaSet, bool)
	statefulSet func(namespace, name string) (*apps.StatefulSet, bool)
}

// defaultSelector is the selector of the pod's group for
// PodTopologySpread's default constraints, as Kubernetes'
// helper.DefaultSelector derives it: the selectors of the Services in the
// pod's namespace that select it (a Service without a selector selects
// nothing) merged, and those of its controller if that is a
// ReplicationController, ReplicaSet or StatefulSet the caches know. All
// of them select the pod, so their union of requirements does too. Nil
// when nothing selects the pod (the defaults then do not apply).
func defaultSelector(pod *api.Pod, l groupListers) *framework.Selector {
	merged := &api.LabelSelector{MatchLabels: map[string]string{}}
	for _, svc := range l.services(pod.Namespace) {
		sel := svc.Spec.Selector
		if len(sel) == 0 {
			continue
		}
		if framework.SelectorFromSet(sel).Matches(pod.Labels) {
			maps.Copy(merged.MatchLabels, sel)
		}
	}
	if ref := pod.ControllerOf(); ref != nil {
		switch {
		case ref.Kind == "ReplicationController" && ref.APIVersion == "v1":
			if rc, ok := l.controller(pod.Namespace, ref.Name); ok {
				maps.Copy(merged.MatchLabels, rc.Spec.Selector)
			}
		case ref.Kind == "ReplicaSet" && ref.APIVersion == "apps/v1":
			if rs, ok := l.replicaSet(pod.Namespace, ref.Name); ok && rs.Spec.Selector != nil {
				addSelector(merged, rs.Spec.Selector)
			}
		case ref.Kind == "StatefulSet" && ref.APIVersion == "apps/v1":
			if ss, ok := l.statefulSet(pod.Namespace, ref.Name); ok && ss.Spec.Selector != nil {
				addSelector(merged, ss.Spec.Selector)
			}
		}
	}
	if len(merged.MatchLabels) == 0 && len(merged.MatchExpressions) == 0 {
		return nil
	}
	sel, err := framework.NewSelector(merged)
	if err != nil {
		return nil // a controller's selector that does not parse: no defaults
	}
	return sel
}

// addSelector adds ls's requirements to into. A key asked for with two
// values yields a selector that matches nothing, as the conjunction of
// the two requirements would.
func addSelector(into, ls *api.LabelSelector) {
	for k, v := range ls.MatchLabels {
		if cur, ok := into.MatchLabels[k]; ok && cur != v {
			into.MatchExpressions = append(into.MatchExpressions, api.LabelSelectorRequirement{Key: k, Operator: api.LabelSelectorOpIn, Values: []string{v}})
			continue
		}
		into.MatchLabels[k] = v
	}
	into.MatchExpressions = append(into.MatchExpressions, ls.MatchExpressions...)
}

// groupInformers are the scheduler's caches behind groupListers.
type groupInformers struct {
	services     *informer.Informer[*api.Service]
	controllers  *informer.Informer[*api.ReplicationController]
	replicaSets  *informer.Informer[*apps.ReplicaSet]
	statefulSets *informer.Informer[*apps.StatefulSet]
}

func (s *Scheduler) newGroupInformers() error {
	cfg, g := s.cfg, &s.groups
	var err error
	if g.services, err = newInformer[*api.Service](s, cfg.Client.Services(), "services"); err != nil {
		return err
	}
	if err := g.services.AddIndexer(informer.NamespaceIndex, informer.IndexByNamespace[*api.Service]); err != nil {
		return err
	}
	if g.controllers, err = newInformer[*api.ReplicationController](s, cfg.Client.ReplicationControllers(), "replicationcontrollers"); err != nil {
		return err
	}
	if g.replicaSets, err = newInformer[*apps.ReplicaSet](s, cfg.Client.ReplicaSets(), "replicasets"); err != nil {
		return err
	}
	if g.statefulSets, err = newInformer[*apps.StatefulSet](s, cfg.Client.StatefulSets(), "statefulsets"); err != nil {
		return err
	}
	return nil
}

// podGroupSelector is the DefaultSelector the scheduler gives
// PodTopologySpread.
func (s *Scheduler) podGroupSelector(pod *api.Pod) *framework.Selector {
	g := &s.groups
	return defaultSelector(pod, groupListers{
		services: func(ns string) []*api.Service {
			out, _ := g.services.ByIndex(informer.NamespaceIndex, ns)
			return out
		},
		controller:  g.controllers.Get,
		replicaSet:  g.replicaSets.Get,
		statefulSet: g.statefulSets.Get,
	})
}

// newInformer makes one of the scheduler's informers, named
// scheduler-<name>.
func newInformer[T store.Object](s *Scheduler, lw informer.ListerWatcher[T], name string) (*informer.Informer[T], error) {
	return informer.New[T](lw, informer.Config[T]{Name: "scheduler-" + name, Clock: s.cfg.Clock, Logger: s.log})
}
