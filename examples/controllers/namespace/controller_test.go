package namespace

import (
	"errors"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Workers: -1}, {RecheckInterval: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}

// TestConditions: the conditions say what Kubernetes' namespace controller
// says, True while the problem lasts.
func TestConditions(t *testing.T) {
	byType := func(cs []api.NamespaceCondition) map[api.NamespaceConditionType]api.NamespaceCondition {
		m := map[api.NamespaceConditionType]api.NamespaceCondition{}
		for _, c := range cs {
			m[c.Type] = c
		}
		return m
	}
	ok := byType(conditions(nil, nil, leftovers{}))
	for _, typ := range []api.NamespaceConditionType{api.NamespaceDeletionDiscoveryFailure, api.NamespaceDeletionContentFailure, api.NamespaceContentRemaining, api.NamespaceFinalizersRemaining} {
		if c := ok[typ]; c.Status != "False" || c.Reason == "" {
			t.Errorf("empty namespace: %s = %+v", typ, c)
		}
	}
	bad := byType(conditions(errors.New("/apis: 503: down"), []string{"pods: 500: boom"},
		leftovers{objects: 3, byResource: map[string]int{"pods": 2, "services": 1}, byFinal: map[string]int{"example.com/hold": 1}}))
	for typ, want := range map[api.NamespaceConditionType]string{
		api.NamespaceDeletionDiscoveryFailure: "Discovery failed for some groups: /apis: 503: down",
		api.NamespaceDeletionContentFailure:   "Failed to delete all resource types, 1 remaining: pods: 500: boom",
		api.NamespaceContentRemaining:         "Some resources are remaining: pods has 2 resource instances, services has 1 resource instances",
		api.NamespaceFinalizersRemaining:      "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
	} {
		if c := bad[typ]; c.Status != "True" || !strings.Contains(c.Message, want) {
			t.Errorf("%s = %+v, want True with %q", typ, c, want)
		}
	}
}
