package offers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
)

// TestDeclineFilter: a declined node is not re-offered to the framework
// before its refuse filter expires, and is after.
func TestDeclineFilter(t *testing.T) {
	a, clk := newTest(t, Config{OfferTimeout: time.Hour})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.SetNode("n2", rl("4", "4Gi")))
	must(t, a.Register(fwSpec("f", "", 0, nil)))
	made := a.Cycle().Offers()
	if len(made) != 2 {
		t.Fatalf("made %d offers, want one per node", len(made))
	}
	must(t, a.Decline("f", made[0].Name, 10*time.Second))
	must(t, a.Decline("f", made[1].Name, 0))
	for _, step := range []struct {
		after time.Duration
		nodes string
	}{{0, "n2"}, {9 * time.Second, ""}, {time.Second, "n1"}} {
		clk.Advance(step.after)
		var nodes []string
		for _, o := range a.Cycle().Offers() {
			nodes = append(nodes, o.Spec.Node)
			must(t, a.Decline("f", o.Name, time.Hour))
		}
		if got := strings.Join(nodes, ","); got != step.nodes {
			t.Fatalf("after +%s offered %q, want %q", step.after, got, step.nodes)
		}
	}
}

// TestExpiredOfferGoesToNext: an offer unanswered past the timeout expires
// and its resources are offered to the next framework.
func TestExpiredOfferGoesToNext(t *testing.T) {
	a, clk := newTest(t, Config{OfferTimeout: 30 * time.Second, HoardCycles: 100})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.Register(fwSpec("a", "", 0, nil)))
	must(t, a.Register(fwSpec("b", "", 0, nil)))
	first := a.Cycle().Offers()
	if len(first) != 1 || first[0].Spec.Framework != "a" {
		t.Fatalf("first cycle %+v, want one offer to a", first)
	}
	if r := a.Cycle(); r.Len() != 0 {
		t.Fatalf("held resources offered again: %+v", r.Offers())
	}
	clk.Advance(30 * time.Second)
	r := a.Cycle()
	if len(r.Ended) != 1 || r.Ended[0].Status.Phase != offersapi.OfferExpired {
		t.Fatalf("ended %+v, want a's offer expired", r.Ended)
	}
	if r.Len() != 1 || r.Made(0).Framework != "b" {
		t.Fatalf("after expiry made %+v, want one offer to b", r.Offers())
	}
	if err := a.Accept("a", first[0].Name, nil); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("accept of expired offer: %v, want ErrOfferExpired", err)
	}
}

// TestBadAccept: each bad accept is rejected with an error naming the
// offer (and resource), and changes nothing.
func TestBadAccept(t *testing.T) {
	a, clk := newTest(t, Config{OfferTimeout: time.Minute, HoardCycles: 100})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.SetNode("n2", rl("4", "4Gi")))
	must(t, a.Register(fwSpec("a", "", 0, rl("2", "2Gi"))))
	must(t, a.Register(fwSpec("b", "", 0, rl("2", "2Gi"))))
	made := a.Cycle().Offers()
	var ofA, ofB offersapi.Offer
	for _, o := range made {
		if o.Spec.Framework == "a" {
			ofA = o
		} else {
			ofB = o
		}
	}
	used := ofA
	must(t, a.Accept("a", used.Name, nil)) // returns it all
	ofA = a.Pending("a")[0]
	clk.Advance(time.Second)

	cases := []struct {
		name  string
		fw    string
		id    string
		tasks []api.ResourceList
		want  error
		says  []string
	}{
		{"beyond the offer", "a", ofA.Name, []api.ResourceList{rl("2", "2Gi"), rl("1", "")}, ErrExceedsOffer, []string{ofA.Name, "cpu", "3"}},
		{"unoffered resource", "a", ofA.Name, []api.ResourceList{{api.ResourceEphemeralStorage: api.MustParse("1Gi")}}, ErrExceedsOffer, []string{"ephemeral-storage"}},
		{"foreign", "a", ofB.Name, nil, ErrForeignOffer, []string{ofB.Name, "framework b"}},
		{"already used", "a", used.Name, nil, ErrOfferClosed, []string{used.Name, "Accepted"}},
		{"unknown", "a", "o-999", nil, ErrUnknownOffer, []string{"o-999"}},
		{"negative", "a", ofA.Name, []api.ResourceList{rl("-1", "")}, ErrInvalid, []string{ofA.Name, "negative"}},
	}
	before := a.Pending("a")
	shareBefore := a.Share("a")
	for _, tc := range cases {
		err := a.Accept(tc.fw, tc.id, tc.tasks)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, s)
			}
		}
	}
	if err := a.Decline("a", ofA.Name, -time.Second); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative refuse: %v", err)
	}
	clk.Advance(time.Minute)
	if err := a.Accept("a", ofA.Name, nil); !errors.Is(err, ErrOfferExpired) {
		t.Errorf("expired (before any cycle): %v, want ErrOfferExpired", err)
	}
	after := a.Pending("a")
	if len(after) != len(before) || after[0].Name != before[0].Name || a.Share("a") != shareBefore {
		t.Errorf("rejected accepts changed state: pending %v → %v, share %v → %v", before, after, shareBefore, a.Share("a"))
	}
	st, _ := a.Status("a")
	if len(st.Allocated) != 0 {
		t.Errorf("rejected accepts allocated %v", st.Allocated)
	}
	must(t, a.Check())
}

// TestHoarding: a framework that holds offers through HoardCycles cycles
// without accepting loses them, and the resources go to another framework.
func TestHoarding(t *testing.T) {
	a, _ := newTest(t, Config{OfferTimeout: time.Hour, HoardCycles: 3})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.Register(fwSpec("a", "", 0, nil)))
	if m := a.Cycle().Offers(); len(m) != 1 || m[0].Spec.Framework != "a" {
		t.Fatalf("first offer %+v", m)
	}
	must(t, a.Register(fwSpec("b", "", 0, nil)))
	a.Cycle()
	a.Cycle()
	r := a.Cycle()
	if len(r.Ended) != 1 || r.Ended[0].Status.Reason != "Hoarding" {
		t.Fatalf("cycle 4 ended %+v, want a's offer rescinded for hoarding", r.Ended)
	}
	if r.Len() != 1 || r.Made(0).Framework != "b" {
		t.Fatalf("cycle 4 made %+v, want the node offered to b", r.Offers())
	}
}

// TestNodeAndFrameworkRemoval: a removed node revokes its offers; a
// removed framework loses its offers, and its tasks keep their allocation
// until released.
func TestNodeAndFrameworkRemoval(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, _ := newTest(t, Config{Registerer: reg})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.SetNode("n2", rl("4", "4Gi")))
	must(t, a.Register(fwSpec("a", "", 0, rl("1", "1Gi"))))
	made := a.Cycle().Offers() // a gets everything, 4 tasks on each node
	if len(made) != 2 {
		t.Fatalf("made %+v", made)
	}
	must(t, a.Accept("a", made[0].Name, []api.ResourceList{rl("1", "1Gi")}))
	gone, err := a.RemoveNode("n2")
	must(t, err)
	if len(gone) != 1 || gone[0].Name != made[1].Name || gone[0].Status.Reason != "NodeRemoved" {
		t.Fatalf("RemoveNode rescinded %+v", gone)
	}
	more := a.Cycle().Offers() // the 3 unused CPUs of n1
	if len(more) != 1 {
		t.Fatalf("re-offer %+v", more)
	}
	gone, err = a.Unregister("a")
	must(t, err)
	if len(gone) != 1 || gone[0].Status.Reason != "FrameworkRemoved" {
		t.Fatalf("Unregister rescinded %+v", gone)
	}
	st, err := a.Status("a")
	must(t, err)
	if st.Registered || cpuOf(st.Allocated) != "1" || st.DominantShare != "0.2500" {
		t.Fatalf("after crash: %+v, want unregistered, 1 CPU still allocated, share 0.25", st)
	}
	must(t, a.Register(fwSpec("b", "", 0, rl("1", "1Gi"))))
	if m := a.Cycle().Offers(); len(m) != 1 || tasksIn(m[0], rl("1", "1Gi")) != 3 {
		t.Fatalf("b offered %+v, want the 3 tasks' worth left beside a's running task", m)
	}
	must(t, a.Release("a", "n1", rl("1", "1Gi")))
	if _, err := a.Status("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a framework gone with no tasks is forgotten; Status: %v", err)
	}
	if err := a.Release("b", "n1", rl("1", "1Gi")); !errors.Is(err, ErrInvalid) {
		t.Errorf("release beyond allocation: %v", err)
	}
	must(t, a.Check())
	if got := testutil.ToFloat64(a.metrics.rescinded.WithLabelValues("a", "NodeRemoved")); got != 1 {
		t.Errorf("rescinded{NodeRemoved} = %v", got)
	}
	if got := testutil.ToFloat64(a.metrics.made.WithLabelValues("a")); got != 3 {
		t.Errorf("made{a} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(a.metrics.share.WithLabelValues("b")); got != 0.75 {
		t.Errorf("share{b} = %v, want 0.75", got)
	}
}

// TestNodeUsedHeld: pods of the other scheduler cannot take resources held
// by an offer; a refused SetNodeUsed changes nothing.
func TestNodeUsedHeld(t *testing.T) {
	a, _ := newTest(t, Config{})
	must(t, a.SetNode("n1", rl("4", "4Gi")))
	must(t, a.SetNodeUsed("n1", rl("1", "1Gi")))
	must(t, a.Register(fwSpec("a", "", 0, nil)))
	m := a.Cycle().Offers()
	if len(m) != 1 || cpuOf(m[0].Spec.Resources) != "3" {
		t.Fatalf("offer %+v, want the 3 free CPUs", m)
	}
	if err := a.SetNodeUsed("n1", rl("2", "1Gi")); !errors.Is(err, ErrOvercommit) {
		t.Fatalf("used into an offer's hold: %v, want ErrOvercommit", err)
	}
	if err := a.SetNode("n1", rl("3", "3Gi")); !errors.Is(err, ErrOvercommit) {
		t.Fatalf("allocatable below holds: %v, want ErrOvercommit", err)
	}
	must(t, a.Decline("a", m[0].Name, time.Hour))
	must(t, a.SetNodeUsed("n1", rl("2", "1Gi")))
	must(t, a.Check())
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{OfferTimeout: -1}, {HoardCycles: -1}} {
		if _, err := New(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v): %v, want ErrInvalid", c, err)
		}
	}
	a, _ := newTest(t, Config{})
	if err := a.Register(fwSpec("", "", 0, nil)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "metadata.name") {
		t.Errorf("nameless framework: %v", err)
	}
	if err := a.SetRole("r", Role{Weight: -1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative role weight: %v", err)
	}
}

func cpuOf(l api.ResourceList) string {
	q := l[api.ResourceCPU]
	return q.String()
}
