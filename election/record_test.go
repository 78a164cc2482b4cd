package election_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/election"
	"github.com/setpoint-dev/setpoint/store"
)

func TestLeaseJSONIsKubernetesShaped(t *testing.T) {
	at := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	l := election.Lease{
		TypeMeta:   store.TypeMeta{APIVersion: election.LeaseAPIVersion, Kind: election.LeaseKind},
		ObjectMeta: store.ObjectMeta{Name: "scheduler", Namespace: "kube-system"},
		Spec: election.LeaseRecord{
			HolderIdentity: "node-1_ab12", LeaseDurationSeconds: 15,
			AcquireTime: election.NewMicroTime(at), RenewTime: election.NewMicroTime(at.Add(time.Second)),
			LeaderTransitions: 3,
		},
	}
	b, err := json.Marshal(&l)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"scheduler","namespace":"kube-system"},` +
		`"spec":{"holderIdentity":"node-1_ab12","leaseDurationSeconds":15,"acquireTime":"2030-05-06T07:08:09.123456Z",` +
		`"renewTime":"2030-05-06T07:08:10.123456Z","leaseTransitions":3}}`
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
	// A free record has no times at all.
	b, _ = json.Marshal(election.LeaseRecord{})
	if string(b) != "{}" {
		t.Errorf("empty record JSON %s, want {}", b)
	}
	if c := l.DeepCopy(); c == &l || !cmp.Equal(*c, l) {
		t.Errorf("DeepCopy = %+v, want an equal copy", c)
	}
}

func TestMicroTimeRejectsBadInput(t *testing.T) {
	for _, in := range []string{`12`, `"yesterday"`, `"2030-13-01T00:00:00Z"`, `{}`} {
		var m election.MicroTime
		err := json.Unmarshal([]byte(in), &m)
		if err == nil {
			t.Errorf("Unmarshal(%s) succeeded with %v, want an error", in, m)
			continue
		}
		if !strings.Contains(err.Error(), "timestamp") {
			t.Errorf("Unmarshal(%s) = %v, want it to say timestamp", in, err)
		}
	}
}

// FuzzLeaseRecord: decoding never panics, and whatever decodes re-encodes
// to a record that decodes the same.
func FuzzLeaseRecord(f *testing.F) {
	f.Add(`{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2030-05-06T07:08:09.123456Z","renewTime":null,"leaseTransitions":2}`)
	f.Add(`{"acquireTime":"2030-05-06T07:08:09+02:00"}`)
	f.Add(`{"renewTime":"2030-05-06T07:08:09.123456789Z"}`)
	f.Add(`{"renewTime":"bad"}`)
	f.Add(`{}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, in string) {
		var r election.LeaseRecord
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", r, err)
		}
		var again election.LeaseRecord
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decode of re-encoded %s: %v", b, err)
		}
		b2, _ := json.Marshal(again)
		if string(b) != string(b2) {
			t.Fatalf("not stable: %s then %s", b, b2)
		}
	})
}
