package replicaset

import (
	"context"

	"github.com/setpoint-dev/setpoint/examples/api/apps"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
)

// ReplicaSetKind is the Kind of apps/v1 ReplicaSets.
var ReplicaSetKind = Kind{
	Name:     "replicaset",
	Resource: apps.ReplicaSetResource,
	Start: func(cs *client.Clientset) (Owners, error) {
		inf, _, err := informer.Shared(cs.Informers(), cs.ReplicaSets(), informer.Config[*apps.ReplicaSet]{
			Indexers: map[string]informer.IndexFunc[*apps.ReplicaSet]{
				informer.NamespaceIndex: informer.IndexByNamespace[*apps.ReplicaSet],
			},
		})
		if err != nil {
			return nil, err
		}
		return &rsOwners{cs: cs, inf: inf}, nil
	},
}

type rsOwners struct {
	cs  *client.Clientset
	inf *informer.Informer[*apps.ReplicaSet]
}

func (o *rsOwners) Get(ns, name string) (*apps.ReplicaSet, bool) { return o.inf.Get(ns, name) }

func (o *rsOwners) InNamespace(ns string) []*apps.ReplicaSet {
	if ns == "" {
		return o.inf.List()
	}
	l, _ := o.inf.ByIndex(informer.NamespaceIndex, ns)
	return l
}

func (o *rsOwners) Fresh(ctx context.Context, ns, name string) (*apps.ReplicaSet, error) {
	return o.cs.ReplicaSets().Get(ctx, ns, name)
}

func (o *rsOwners) UpdateStatus(ctx context.Context, rs *apps.ReplicaSet) (*apps.ReplicaSet, error) {
	return o.cs.ReplicaSets().UpdateStatus(ctx, rs)
}

func (o *rsOwners) AddHandler(h informer.Handler[*apps.ReplicaSet]) error {
	_, err := o.inf.AddHandler(h)
	return err
}

func (o *rsOwners) WaitForSync(ctx context.Context) error { return o.inf.WaitForSync(ctx) }
