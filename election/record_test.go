package election_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

func ptr[T any](v T) *T { return &v }

func TestLeaseJSONIsKubernetesShaped(t *testing.T) {
	at := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	strategy := election.OldestEmulationVersion
	l := election.Lease{
		TypeMeta:   store.TypeMeta{APIVersion: election.LeaseAPIVersion, Kind: election.LeaseKind},
		ObjectMeta: store.ObjectMeta{Name: "scheduler", Namespace: "kube-system"},
		Spec: election.LeaseSpec{
			HolderIdentity: ptr("node-1_ab12"), LeaseDurationSeconds: ptr[int32](15),
			AcquireTime: ptr(store.NewMicroTime(at)), RenewTime: ptr(store.NewMicroTime(at.Add(time.Second))),
			LeaseTransitions: ptr[int32](3), Strategy: &strategy, PreferredHolder: ptr("node-2_cd34"),
		},
	}
	b, err := json.Marshal(&l)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"scheduler","namespace":"kube-system"},` +
		`"spec":{"holderIdentity":"node-1_ab12","leaseDurationSeconds":15,"acquireTime":"2030-05-06T07:08:09.123456Z",` +
		`"renewTime":"2030-05-06T07:08:10.123456Z","leaseTransitions":3,"strategy":"OldestEmulationVersion","preferredHolder":"node-2_cd34"}}`
	if string(b) != want {
		t.Errorf("Lease JSON\n got %s\nwant %s", b, want)
	}
	var back election.Lease
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l.Spec, back.Spec); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if l.Spec.Holder() != "node-1_ab12" || l.Spec.Duration() != 15*time.Second || l.Spec.Transitions() != 3 {
		t.Errorf("accessors: %q %v %d", l.Spec.Holder(), l.Spec.Duration(), l.Spec.Transitions())
	}
	// A zero leaseTransitions is present (as Kubernetes writes it); absent
	// fields are absent.
	b, _ = json.Marshal(election.LeaseSpec{LeaseTransitions: ptr[int32](0)})
	if string(b) != `{"leaseTransitions":0}` {
		t.Errorf("spec with zero transitions = %s", b)
	}
	var empty election.LeaseSpec
	if b, _ = json.Marshal(empty); string(b) != "{}" {
		t.Errorf("empty spec JSON %s, want {}", b)
	}
	if empty.Holder() != "" || empty.Duration() != 0 || empty.Transitions() != 0 {
		t.Error("accessors of an empty spec are not zero")
	}
}

// TestLeaseDeepCopySharesNothing: changing every pointer of a copy leaves
// the original as it was.
func TestLeaseDeepCopySharesNothing(t *testing.T) {
	at := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	strategy := election.OldestEmulationVersion
	orig := &election.Lease{
		ObjectMeta: store.ObjectMeta{Name: "l", Namespace: "ns", Labels: map[string]string{"a": "b"}},
		Spec: election.LeaseSpec{
			HolderIdentity: ptr("a"), LeaseDurationSeconds: ptr[int32](15),
			AcquireTime: ptr(store.NewMicroTime(at)), RenewTime: ptr(store.NewMicroTime(at)),
			LeaseTransitions: ptr[int32](1), Strategy: &strategy, PreferredHolder: ptr("b"),
		},
	}
	want, _ := json.Marshal(orig)
	c := orig.DeepCopy()
	if diff := cmp.Diff(orig, c); diff != "" {
		t.Fatalf("copy differs (-orig +copy):\n%s", diff)
	}
	*c.Spec.HolderIdentity = "x"
	*c.Spec.LeaseDurationSeconds = 99
	c.Spec.AcquireTime.Time = at.Add(time.Hour)
	c.Spec.RenewTime.Time = at.Add(time.Hour)
	*c.Spec.LeaseTransitions = 99
	*c.Spec.Strategy = "other"
	*c.Spec.PreferredHolder = "y"
	c.Labels["a"] = "changed"
	if got, _ := json.Marshal(orig); string(got) != string(want) {
		t.Fatalf("changing the copy changed the original:\n got %s\nwant %s", got, want)
	}
	if (*election.Lease)(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil is not nil")
	}
}

// FuzzLeaseSpec: decoding never panics, and whatever decodes re-encodes to
// a spec that decodes the same.
func FuzzLeaseSpec(f *testing.F) {
	f.Add(`{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2030-05-06T07:08:09.123456Z","renewTime":null,"leaseTransitions":2}`)
	f.Add(`{"acquireTime":"2030-05-06T07:08:09+02:00","strategy":"OldestEmulationVersion","preferredHolder":"b"}`)
	f.Add(`{"renewTime":"2030-05-06T07:08:09.123456789Z"}`)
	f.Add(`{"renewTime":"9999-12-31T23:59:59-23:59"}`)
	f.Add(`{"renewTime":"bad"}`)
	f.Add(`{}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, in string) {
		var r election.LeaseSpec
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", r, err)
		}
		var again election.LeaseSpec
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decode of re-encoded %s: %v", b, err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("%s: not stable (-first +again):\n%s", b, diff)
		}
	})
}
