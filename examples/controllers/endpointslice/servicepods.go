package endpointslice

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/store"
)

// servicePodsIndex indexes services and pods by namespace.
const servicePodsIndex = "endpoints.namespace"

// ServicePods are the shared service and pod caches both endpoints
// controllers (this one and package endpoint) work from, indexed by
// namespace.
type ServicePods struct {
	// Services and Pods are the shared informers.
	Services *informer.Informer[*api.Service]
	Pods     *informer.Informer[*api.Pod]
}

// NewServicePods returns cs's shared service and pod informers with the
// namespace index.
func NewServicePods(cs *client.Clientset) (*ServicePods, error) {
	var sp ServicePods
	var err error
	if sp.Services, _, err = informer.Shared(cs.Informers(), cs.Services(), informer.Config[*api.Service]{
		Indexers: map[string]informer.IndexFunc[*api.Service]{servicePodsIndex: informer.IndexByNamespace[*api.Service]}}); err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	if sp.Pods, _, err = informer.Shared(cs.Informers(), cs.Pods(), informer.Config[*api.Pod]{
		Indexers: map[string]informer.IndexFunc[*api.Pod]{servicePodsIndex: informer.IndexByNamespace[*api.Pod]}}); err != nil {
		return nil, fmt.Errorf("pods: %w", err)
	}
	return &sp, nil
}

// Selecting returns the cached services whose selector matches cur's
// labels or, if old is not nil, old's (a label change leaves one service
// and joins another).
func (sp *ServicePods) Selecting(old, cur *api.Pod) []*api.Service {
	svcs, _ := sp.Services.ByIndex(servicePodsIndex, cur.Namespace)
	var out []*api.Service
	for _, s := range svcs {
		if s.Spec.Selector == nil {
			continue
		}
		sel := store.SelectorFromSet(s.Spec.Selector)
		if sel.Matches(cur.Labels) || (old != nil && sel.Matches(old.Labels)) {
			out = append(out, s)
		}
	}
	return out
}

// PodsOf returns the cached pods svc's selector matches.
func (sp *ServicePods) PodsOf(svc *api.Service) []*api.Pod {
	sel := store.SelectorFromSet(svc.Spec.Selector)
	inNS, _ := sp.Pods.ByIndex(servicePodsIndex, svc.Namespace)
	var out []*api.Pod
	for _, p := range inNS {
		if sel.Matches(p.Labels) {
			out = append(out, p)
		}
	}
	return out
}
