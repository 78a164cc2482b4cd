package offers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

func sampleFramework() *Framework {
	return &Framework{
		TypeMeta:   store.TypeMeta{APIVersion: GroupVersion, Kind: "Framework"},
		ObjectMeta: store.ObjectMeta{Name: "batch", Labels: map[string]string{"a": "b"}},
		Spec: FrameworkSpec{
			Role:            "analytics",
			Weight:          2,
			TaskResources:   api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("4Gi")},
			TotalResources:  api.ResourceList{api.ResourceCPU: api.MustParse("8")},
			FailoverTimeout: &api.Duration{Duration: time.Minute},
		},
		Status: FrameworkStatus{
			Registered:    true,
			DominantShare: "0.6667",
			Allocated:     api.ResourceList{api.ResourceCPU: api.MustParse("3")},
			Conditions:    []api.Condition{{Type: "Registered", Status: api.ConditionTrue, Reason: "Connected", LastTransitionTime: store.NewTime(time.Unix(1e9, 0))}},
		},
	}
}

func sampleOffer() *Offer {
	return &Offer{
		TypeMeta:   store.TypeMeta{APIVersion: GroupVersion, Kind: "Offer"},
		ObjectMeta: store.ObjectMeta{Name: "o-1"},
		Spec: OfferSpec{
			Framework:  "batch",
			Node:       "n1",
			Resources:  api.ResourceList{api.ResourceCPU: api.MustParse("2")},
			ExpiryTime: store.NewTime(time.Unix(1e9, 0)),
		},
		Status: OfferStatus{Phase: OfferPending},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, obj := range []any{sampleFramework(), sampleOffer()} {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		var back any
		switch obj.(type) {
		case *Framework:
			back = new(Framework)
		case *Offer:
			back = new(Offer)
		}
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(obj, back); d != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", b, d)
		}
	}
	// wire names are facts a client depends on
	b, _ := json.Marshal(sampleOffer())
	for _, want := range []string{`"apiVersion":"offers.setpoint.dev/v1alpha1"`, `"framework":"batch"`, `"expiryTime":"2001-09-09T01:46:40Z"`, `"phase":"Pending"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("offer JSON %s lacks %s", b, want)
		}
	}
}

func TestDeepCopyShares(t *testing.T) {
	f := sampleFramework()
	c := f.DeepCopy()
	if d := cmp.Diff(f, c); d != "" {
		t.Fatalf("copy differs:\n%s", d)
	}
	c.Spec.TaskResources[api.ResourceCPU] = api.MustParse("9")
	c.Spec.FailoverTimeout.Duration = time.Hour
	c.Status.Conditions[0].Reason = "x"
	c.Labels["a"] = "z"
	if d := cmp.Diff(sampleFramework(), f); d != "" {
		t.Errorf("mutating the copy changed the original:\n%s", d)
	}
	o := sampleOffer()
	oc := o.DeepCopy()
	oc.Spec.Resources[api.ResourceCPU] = api.MustParse("9")
	if d := cmp.Diff(sampleOffer(), o); d != "" {
		t.Errorf("mutating the offer copy changed the original:\n%s", d)
	}
}

func TestValidate(t *testing.T) {
	f := sampleFramework()
	if err := f.Validate(); err != nil {
		t.Fatalf("valid framework: %v", err)
	}
	bad := sampleFramework()
	bad.Name = ""
	bad.Spec.Weight = -1
	bad.Spec.TaskResources[api.ResourceMemory] = api.MustParse("-1")
	bad.Spec.FailoverTimeout.Duration = -time.Second
	before := bad.DeepCopy()
	err := bad.Validate()
	if err == nil {
		t.Fatal("invalid framework accepted")
	}
	for _, want := range []string{"metadata.name", "spec.weight", "spec.taskResources[memory]", "spec.failoverTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if d := cmp.Diff(before, bad); d != "" {
		t.Errorf("Validate changed the framework:\n%s", d)
	}

	if err := sampleOffer().Validate(); err != nil {
		t.Fatalf("valid offer: %v", err)
	}
	neg, long := int32(-1), int32(MaxRefuseSeconds+1)
	d := sampleOffer()
	d.Spec.Decline = &OfferDecline{}
	d.SetDefaults()
	if d.Spec.Decline.RefuseSeconds == nil || *d.Spec.Decline.RefuseSeconds != DefaultRefuseSeconds {
		t.Errorf("decline defaults: %+v, want refuseSeconds %d", d.Spec.Decline, DefaultRefuseSeconds)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("valid decline: %v", err)
	}
	for _, bad := range []*OfferDecline{{RefuseSeconds: &neg}, {RefuseSeconds: &long}} {
		d.Spec.Decline = bad
		if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "spec.decline.refuseSeconds") {
			t.Errorf("refuseSeconds %d: error %v, want one naming spec.decline.refuseSeconds", *bad.RefuseSeconds, err)
		}
	}
	d.Spec.Decline, d.Spec.Tasks = &OfferDecline{}, []string{"default/t"}
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "spec.decline") {
		t.Errorf("decline beside tasks: error %v, want one naming spec.decline", err)
	}
	o := &Offer{Status: OfferStatus{Phase: "Lost"}}
	err = o.Validate()
	for _, want := range []string{"spec.framework", "spec.node", "spec.resources", "spec.expiryTime", "status.phase"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestSetDefaults(t *testing.T) {
	f := &Framework{}
	f.SetDefaults()
	if f.Spec.Role != DefaultRole || f.Spec.Weight != 1 {
		t.Errorf("defaults: role %q weight %d, want %q 1", f.Spec.Role, f.Spec.Weight, DefaultRole)
	}
	g := sampleFramework()
	g.SetDefaults()
	if g.Spec.Role != "analytics" || g.Spec.Weight != 2 {
		t.Errorf("SetDefaults overwrote set fields: %+v", g.Spec)
	}
}
