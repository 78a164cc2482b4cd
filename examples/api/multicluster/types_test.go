package multicluster

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

func sampleSubscription() *Subscription {
	return &Subscription{
		TypeMeta:   store.TypeMeta{APIVersion: GroupVersion, Kind: "Subscription"},
		ObjectMeta: store.ObjectMeta{Name: "web", Namespace: "apps", Labels: map[string]string{"a": "b"}},
		Spec: SubscriptionSpec{
			SchedulingStrategy: Dividing,
			DividingType:       DividingStatic,
			Subscribers: []Subscriber{
				{ClusterAffinity: &api.LabelSelector{MatchLabels: map[string]string{"region": "eu"}}, Weight: 2},
				{ClusterAffinity: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "tier", Operator: api.LabelSelectorOpIn, Values: []string{"edge"}}}}, Weight: 1},
			},
			Feeds:     []Feed{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web"}},
			Manifests: []api.RawExtension{{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`)}},
		},
		Status: SubscriptionStatus{
			BindingClusters: []string{"mcls-a/a"},
			Replicas:        map[string]int32{"mcls-a/a": 4},
			Clusters:        []ClusterProgress{{Cluster: "mcls-a/a", Phase: DescriptionSuccess}},
			Conditions:      []api.Condition{{Type: "Scheduled", Status: api.ConditionTrue, LastTransitionTime: store.NewTime(time.Unix(1e9, 0))}},
		},
	}
}

func sampleManagedCluster() *ManagedCluster {
	return &ManagedCluster{
		TypeMeta:   store.TypeMeta{APIVersion: GroupVersion, Kind: "ManagedCluster"},
		ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "mcls-a"},
		Spec:       ManagedClusterSpec{ClusterID: "a", SyncMode: SyncPull},
		Status: ManagedClusterStatus{
			LastObservedTime:  store.NewTime(time.Unix(1e9, 0)),
			KubernetesVersion: "v1.32.0",
			Readyz:            true,
			NodeCount:         3,
			ReadyNodeCount:    2,
			Allocatable:       api.ResourceList{api.ResourceCPU: api.MustParse("8")},
			Available:         api.ResourceList{api.ResourceCPU: api.MustParse("5")},
			Conditions:        []api.Condition{{Type: ConditionReady, Status: api.ConditionTrue, Reason: "Healthy"}},
		},
	}
}

func sampleLocalization() *Localization {
	return &Localization{
		ObjectMeta: store.ObjectMeta{Name: "img", Namespace: "mcls-a"},
		Spec: OverrideSpec{
			Feed:     Feed{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web"},
			Priority: 600,
			Overrides: []Override{
				{Name: "image", Type: JSONPatchOverride, Value: `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"web:2"}]`},
				{Name: "label", Type: MergePatchOverride, Value: `{"metadata":{"labels":{"site":"a"}}}`},
			},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, obj := range []any{sampleSubscription(), sampleManagedCluster(), sampleLocalization()} {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var back any
		switch obj.(type) {
		case *Subscription:
			back = new(Subscription)
		case *ManagedCluster:
			back = new(ManagedCluster)
		case *Localization:
			back = new(Localization)
		}
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(obj, back); d != "" {
			t.Errorf("%T round trip:\n%s", obj, d)
		}
	}
	// the wire names are Clusternet's where it has them
	b, _ := json.Marshal(sampleManagedCluster())
	for _, want := range []string{`"clusterId":"a"`, `"k8sVersion":"v1.32.0"`, `"nodeCount":3`, `"syncMode":"Pull"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("ManagedCluster JSON lacks %s: %s", want, b)
		}
	}
}

func TestDeepCopyShares(t *testing.T) {
	s := sampleSubscription()
	c := s.DeepCopy()
	if d := cmp.Diff(s, c); d != "" {
		t.Fatalf("copy differs:\n%s", d)
	}
	c.Spec.Subscribers[0].ClusterAffinity.MatchLabels["region"] = "us"
	c.Spec.Subscribers[1].ClusterAffinity.MatchExpressions[0].Values[0] = "core"
	c.Spec.Manifests[0].Raw[2] = 'X'
	c.Status.Replicas["mcls-a/a"] = 9
	c.Labels["a"] = "z"
	if d := cmp.Diff(sampleSubscription(), s); d != "" {
		t.Errorf("mutating the copy changed the original:\n%s", d)
	}
	m := sampleManagedCluster()
	mc := m.DeepCopy()
	mc.Status.Available[api.ResourceCPU] = api.MustParse("1")
	mc.Status.Conditions[0].Status = api.ConditionFalse
	if d := cmp.Diff(sampleManagedCluster(), m); d != "" {
		t.Errorf("mutating the cluster copy changed the original:\n%s", d)
	}
}

func TestDefaultsIdempotent(t *testing.T) {
	s := &Subscription{Spec: SubscriptionSpec{SchedulingStrategy: Dividing, Subscribers: []Subscriber{{ClusterAffinity: &api.LabelSelector{}}}}}
	s.SetDefaults()
	if s.Spec.DividingType != DividingStatic || s.Spec.Subscribers[0].Weight != 1 {
		t.Fatalf("defaults: %+v", s.Spec)
	}
	once := s.DeepCopy()
	s.SetDefaults()
	if d := cmp.Diff(once, s); d != "" {
		t.Errorf("second SetDefaults changed:\n%s", d)
	}
	r := &ClusterRegistrationRequest{Spec: ClusterRegistrationRequestSpec{ClusterID: "c1"}}
	r.SetDefaults()
	if r.Spec.ClusterName != "c1" || r.Spec.SyncMode != SyncPull {
		t.Errorf("registration defaults: %+v", r.Spec)
	}
	l := &Localization{}
	l.SetDefaults()
	if l.Spec.Priority != DefaultPriority {
		t.Errorf("localization priority default %d", l.Spec.Priority)
	}
}

func TestValidate(t *testing.T) {
	for _, v := range []interface{ Validate() error }{sampleSubscription(), sampleManagedCluster(), sampleLocalization(),
		&ClusterRegistrationRequest{ObjectMeta: store.ObjectMeta{Name: "mcls-c1"}, Spec: ClusterRegistrationRequestSpec{ClusterID: "c1"}},
		&Description{Spec: DescriptionSpec{Subscription: "apps/web", Objects: sampleSubscription().Spec.Manifests}},
	} {
		if err := v.Validate(); err != nil {
			t.Errorf("valid %T: %v", v, err)
		}
	}
	cases := []struct {
		name string
		obj  interface{ Validate() error }
		want []string
	}{
		{"bad selector", func() *Subscription {
			s := sampleSubscription()
			s.Spec.Subscribers[1].ClusterAffinity.MatchExpressions[0].Operator = "Near"
			s.Spec.Subscribers[0].ClusterAffinity = nil
			return s
		}(), []string{`spec.subscribers[1].clusterAffinity: `, `"Near"`, `spec.subscribers[0].clusterAffinity: required`}},
		{"bad strategy", func() *Subscription {
			s := sampleSubscription()
			s.Spec.SchedulingStrategy = "Random"
			s.Spec.Feeds[0].Kind = ""
			s.Spec.Manifests[0].Raw = []byte(`[1]`)
			return s
		}(), []string{`spec.schedulingStrategy: "Random"`, "spec.feeds[0].kind: required", "spec.manifests[0]: not a JSON object"}},
		{"bad json patch", func() *Localization {
			l := sampleLocalization()
			l.Spec.Overrides[0].Value = `[{"op":"frobnicate","path":"spec"}]`
			return l
		}(), []string{`spec.overrides[0].value: [0].path: "spec" is not a JSON pointer`, `[0].op: "frobnicate"`}},
		{"bad merge patch", func() *Localization {
			l := sampleLocalization()
			l.Spec.Overrides[1].Value = `["x"]`
			l.Spec.Priority = 2000
			return l
		}(), []string{"spec.overrides[1].value: a merge patch must be a JSON object", "spec.priority: 2000"}},
		{"bad globalization", &Globalization{
			ClusterAffinity: &api.LabelSelector{MatchExpressions: []api.LabelSelectorRequirement{{Key: "a", Operator: api.LabelSelectorOpExists, Values: []string{"x"}}}},
			Spec:            OverrideSpec{Priority: 1, Overrides: []Override{{Type: "YAML", Value: "x"}}},
		}, []string{"clusterAffinity: ", "spec.feed.name: required", `spec.overrides[0].type: "YAML"`}},
		{"bad registration", &ClusterRegistrationRequest{ObjectMeta: store.ObjectMeta{Name: "x"}, Spec: ClusterRegistrationRequestSpec{ClusterID: "Bad_ID"}},
			[]string{`spec.clusterId: "Bad_ID" is not a DNS label`}},
		{"wrong registration name", &ClusterRegistrationRequest{ObjectMeta: store.ObjectMeta{Name: "x"}, Spec: ClusterRegistrationRequestSpec{ClusterID: "c1"}},
			[]string{`metadata.name: "x" must be "mcls-c1"`}},
	}
	for _, c := range cases {
		before, _ := json.Marshal(c.obj)
		err := c.obj.Validate()
		if err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want an ErrInvalid", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		after, _ := json.Marshal(c.obj)
		if string(before) != string(after) {
			t.Errorf("%s: Validate changed the object", c.name)
		}
	}
}

func FuzzValidateJSONPatch(f *testing.F) {
	for _, s := range []string{`[]`, `[{"op":"add","path":"/a","value":1}]`, `[{"op":"move","from":"/a","path":"/b"}]`, `{}`, `[1]`, `[{"op":"remove"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := ValidateJSONPatch(b)
		var ops []map[string]any
		if json.Unmarshal(b, &ops) != nil && err == nil {
			t.Fatalf("accepted a non-array %q", b)
		}
	})
}
