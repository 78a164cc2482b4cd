package offers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/store"
)

func rl(cpu, mem string) api.ResourceList {
	l := api.ResourceList{}
	if cpu != "" {
		l[api.ResourceCPU] = api.MustParse(cpu)
	}
	if mem != "" {
		l[api.ResourceMemory] = api.MustParse(mem)
	}
	return l
}

func fwSpec(name, role string, weight int32, task api.ResourceList) *offersapi.Framework {
	return &offersapi.Framework{
		ObjectMeta: store.ObjectMeta{Name: name},
		Spec:       offersapi.FrameworkSpec{Role: role, Weight: weight, TaskResources: task},
	}
}

func newTest(t *testing.T, cfg Config) (*Allocator, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClock()
	cfg.Clock = clk
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a, clk
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tasksIn is how many tasks of size task an offer holds (offers are made
// in whole tasks).
func tasksIn(o offersapi.Offer, task api.ResourceList) int {
	n := -1
	for name, q := range task {
		k := int(o.Spec.Resources[name].MilliValue() / q.MilliValue())
		if n < 0 || k < n {
			n = k
		}
	}
	return n
}

// launchAll runs one cycle and has every framework accept each offer with
// as many tasks as fit; it returns tasks launched per framework.
func launchAll(t *testing.T, a *Allocator, tasks map[string]api.ResourceList) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, o := range a.Cycle().Offers() {
		k := tasksIn(o, tasks[o.Spec.Framework])
		ts := make([]api.ResourceList, k)
		for i := range ts {
			ts[i] = tasks[o.Spec.Framework]
		}
		must(t, a.Accept(o.Spec.Framework, o.Name, ts))
		got[o.Spec.Framework] += k
		must(t, a.Check())
	}
	return got
}

// TestDRF checks the DRF paper's worked example (Ghodsi et al., NSDI 2011,
// section 4: <9 CPU, 18 GiB>, A's tasks <1 CPU, 4 GiB>, B's <3 CPU, 1 GiB>
// → A 3 tasks, B 2 tasks, both dominant shares 2/3), and how weights and
// roles shift it.
func TestDRF(t *testing.T) {
	a4, b3 := rl("1", "4Gi"), rl("3", "1Gi")
	cases := []struct {
		name   string
		roles  map[string]Role
		fws    []*offersapi.Framework
		want   map[string]int
		shares map[string]string
	}{{
		name:   "paper",
		fws:    []*offersapi.Framework{fwSpec("a", "", 0, a4), fwSpec("b", "", 0, b3)},
		want:   map[string]int{"a": 3, "b": 2},
		shares: map[string]string{"a": "0.6667", "b": "0.6667"},
	}, {
		// weighted DRF equalizes share/weight: a of weight 2 is entitled
		// to twice b's share; in whole tasks that is a 4 (8/9), b 1 (1/3).
		name:   "weight 2 for a",
		fws:    []*offersapi.Framework{fwSpec("a", "", 2, a4), fwSpec("b", "", 1, b3)},
		want:   map[string]int{"a": 4, "b": 1},
		shares: map[string]string{"a": "0.8889", "b": "0.3333"},
	}, {
		// three peers: b is one of three and gets one task.
		name: "three frameworks, one role",
		fws:  []*offersapi.Framework{fwSpec("a1", "", 0, a4), fwSpec("a2", "", 0, a4), fwSpec("b", "", 0, b3)},
		want: map[string]int{"a1": 2, "a2": 2, "b": 1},
	}, {
		// roles first: a1 and a2 share role r1, which together get what
		// one framework got in the paper; b (role r2) gets its 2 again.
		name: "two roles",
		fws:  []*offersapi.Framework{fwSpec("a1", "r1", 0, a4), fwSpec("a2", "r1", 0, a4), fwSpec("b", "r2", 0, b3)},
		want: map[string]int{"a1": 2, "a2": 1, "b": 2},
	}, {
		// a role weight of 2 for r1 shifts it as a framework weight does.
		name:  "role weight",
		roles: map[string]Role{"r1": {Weight: 2}},
		fws:   []*offersapi.Framework{fwSpec("a", "r1", 0, a4), fwSpec("b", "r2", 0, b3)},
		want:  map[string]int{"a": 4, "b": 1},
	}, {
		// a quota of 2 CPU on r2 caps b below its fair share; a takes the
		// rest it can use (memory-bound at 4 tasks).
		name:  "quota",
		roles: map[string]Role{"r2": {Quota: rl("2", "")}},
		fws:   []*offersapi.Framework{fwSpec("a", "r1", 0, a4), fwSpec("b", "r2", 0, rl("1", "1Gi"))},
		want:  map[string]int{"a": 4, "b": 2},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newTest(t, Config{})
			must(t, a.SetNode("n1", rl("9", "18Gi")))
			for name, r := range tc.roles {
				must(t, a.SetRole(name, r))
			}
			tasks := map[string]api.ResourceList{}
			for _, f := range tc.fws {
				must(t, a.Register(f))
				tasks[f.Name] = f.Spec.TaskResources
			}
			got := launchAll(t, a, tasks)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("tasks per framework (-want +got):\n%s", d)
			}
			// a second cycle offers nothing: no framework's task fits
			if more := a.Cycle().Offers(); len(more) != 0 {
				t.Errorf("second cycle made %d offers, want 0: %+v", len(more), more)
			}
			for name, want := range tc.shares {
				st, err := a.Status(name)
				must(t, err)
				if st.DominantShare != want {
					t.Errorf("framework %s share %s, want %s", name, st.DominantShare, want)
				}
			}
		})
	}
}

// TestReservation: resources reserved for a role on a node are offered
// only to that role's frameworks.
func TestReservation(t *testing.T) {
	a, _ := newTest(t, Config{})
	must(t, a.SetRole("db", Role{Reservations: map[string]api.ResourceList{"n1": rl("4", "4Gi")}}))
	must(t, a.SetNode("n1", rl("8", "8Gi")))
	must(t, a.Register(fwSpec("web", "web", 0, rl("1", "1Gi"))))
	got := launchAll(t, a, map[string]api.ResourceList{"web": rl("1", "1Gi")})
	if got["web"] != 4 {
		t.Fatalf("web got %d tasks, want 4 (the unreserved half)", got["web"])
	}
	must(t, a.Register(fwSpec("pg", "db", 0, rl("2", "2Gi"))))
	got = launchAll(t, a, map[string]api.ResourceList{"pg": rl("2", "2Gi")})
	if got["pg"] != 2 {
		t.Fatalf("db got %d tasks, want 2 (its reservation)", got["pg"])
	}
}
