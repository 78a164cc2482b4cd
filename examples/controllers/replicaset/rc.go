package replicaset

import (
	"context"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
)

// ReplicationControllerKind is the Kind of v1 ReplicationControllers: the
// same controller, on replication controllers converted to replica sets
// and back, as Kubernetes' replication controller (pkg/controller/
// replication) runs the replica set controller through a conversion. The
// selector is the equality map (empty: the template's labels, as the
// apiserver defaults it); the status has no terminatingReplicas, so that
// count is dropped on the way back.
var ReplicationControllerKind = Kind{
	Name:     "replicationcontroller",
	Resource: api.ReplicationControllerResource,
	Start: func(cs *client.Clientset) (Owners, error) {
		inf, _, err := informer.Shared(cs.Informers(), cs.ReplicationControllers(), informer.Config[*api.ReplicationController]{
			Indexers: map[string]informer.IndexFunc[*api.ReplicationController]{
				informer.NamespaceIndex: informer.IndexByNamespace[*api.ReplicationController],
			},
		})
		if err != nil {
			return nil, err
		}
		return &rcOwners{cs: cs, inf: inf}, nil
	},
}

// NewReplicationController builds the replication controller controller
// ("replicationcontroller" in logs and metrics) from cfg.
func NewReplicationController(cfg Config) (*Controller, error) {
	return NewFor(cfg, ReplicationControllerKind)
}

type rcOwners struct {
	cs  *client.Clientset
	inf *informer.Informer[*api.ReplicationController]
}

func (o *rcOwners) Get(ns, name string) (*apps.ReplicaSet, bool) {
	rc, ok := o.inf.Get(ns, name)
	if !ok {
		return nil, false
	}
	return rcToRS(rc), true
}

func (o *rcOwners) InNamespace(ns string) []*apps.ReplicaSet {
	var rcs []*api.ReplicationController
	if ns == "" {
		rcs = o.inf.List()
	} else {
		rcs, _ = o.inf.ByIndex(informer.NamespaceIndex, ns)
	}
	out := make([]*apps.ReplicaSet, len(rcs))
	for i, rc := range rcs {
		out[i] = rcToRS(rc)
	}
	return out
}

func (o *rcOwners) Fresh(ctx context.Context, ns, name string) (*apps.ReplicaSet, error) {
	rc, err := o.cs.ReplicationControllers().Get(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	return rcToRS(rc), nil
}

func (o *rcOwners) UpdateStatus(ctx context.Context, rs *apps.ReplicaSet) (*apps.ReplicaSet, error) {
	rc, err := o.cs.ReplicationControllers().UpdateStatus(ctx, rsToRC(rs))
	if err != nil {
		return nil, err
	}
	return rcToRS(rc), nil
}

func (o *rcOwners) AddHandler(h informer.Handler[*apps.ReplicaSet]) error {
	_, err := o.inf.AddHandler(informer.HandlerFuncs[*api.ReplicationController]{
		AddFunc:    func(rc *api.ReplicationController, initial bool) { h.OnAdd(rcToRS(rc), initial) },
		UpdateFunc: func(old, rc *api.ReplicationController) { h.OnUpdate(rcToRS(old), rcToRS(rc)) },
		DeleteFunc: func(rc *api.ReplicationController, unknown bool) { h.OnDelete(rcToRS(rc), unknown) },
	})
	return err
}

func (o *rcOwners) WaitForSync(ctx context.Context) error { return o.inf.WaitForSync(ctx) }

// rcToRS converts a replication controller to the replica set the
// controller works on. It shares rc's maps and slices (the controller
// never modifies an owner's fields in place).
func rcToRS(rc *api.ReplicationController) *apps.ReplicaSet {
	rs := &apps.ReplicaSet{ObjectMeta: rc.ObjectMeta}
	rs.APIVersion, rs.Kind = api.ReplicationControllerResource.APIVersion, api.ReplicationControllerResource.Kind
	rs.Spec.Replicas = rc.Spec.Replicas
	rs.Spec.MinReadySeconds = rc.Spec.MinReadySeconds
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	sel := rc.Spec.Selector
	if len(sel) == 0 {
		sel = rs.Spec.Template.Labels
	}
	rs.Spec.Selector = &api.LabelSelector{MatchLabels: sel}
	st := rc.Status
	rs.Status = apps.ReplicaSetStatus{Replicas: st.Replicas, FullyLabeledReplicas: st.FullyLabeledReplicas, ReadyReplicas: st.ReadyReplicas,
		AvailableReplicas: st.AvailableReplicas, ObservedGeneration: st.ObservedGeneration}
	for _, c := range st.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, apps.ReplicaSetCondition{Type: apps.ReplicaSetConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rs
}

// rsToRC converts back, for a status write.
func rsToRC(rs *apps.ReplicaSet) *api.ReplicationController {
	rc := &api.ReplicationController{ObjectMeta: rs.ObjectMeta}
	rc.Spec.Replicas = rs.Spec.Replicas
	rc.Spec.MinReadySeconds = rs.Spec.MinReadySeconds
	if rs.Spec.Selector != nil {
		rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	}
	tmpl := rs.Spec.Template
	rc.Spec.Template = &tmpl
	st := rs.Status
	rc.Status = api.ReplicationControllerStatus{Replicas: st.Replicas, FullyLabeledReplicas: st.FullyLabeledReplicas, ReadyReplicas: st.ReadyReplicas,
		AvailableReplicas: st.AvailableReplicas, ObservedGeneration: st.ObservedGeneration}
	for _, c := range st.Conditions {
		rc.Status.Conditions = append(rc.Status.Conditions, api.ReplicationControllerCondition{Type: api.ReplicationControllerConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	return rc
}
