package multicluster_test

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
)

// A Subscription divides a Deployment's replicas among the clusters of two
// regions by weight; a bad selector is reported with its field path.
func Example() {
	s := &multicluster.Subscription{Spec: multicluster.SubscriptionSpec{
		SchedulingStrategy: multicluster.Dividing,
		Subscribers: []multicluster.Subscriber{
			{ClusterAffinity: &api.LabelSelector{MatchLabels: map[string]string{"region": "eu"}}, Weight: 2},
			{ClusterAffinity: &api.LabelSelector{MatchLabels: map[string]string{"region": "us"}}},
		},
		Feeds: []multicluster.Feed{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web"}},
	}}
	s.SetDefaults()
	fmt.Println(s.Spec.DividingType, s.Spec.Subscribers[1].Weight, s.Validate())
	s.Spec.Subscribers[1].ClusterAffinity = nil
	fmt.Println(s.Validate())
	// Output:
	// Static 1 <nil>
	// invalid: subscription "": spec.subscribers[1].clusterAffinity: required (an empty selector matches every cluster)
}
