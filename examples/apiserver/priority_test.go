package apiserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/scheduling"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

// TestPriorityAdmission: pods created through the server get the priority
// and preemption policy of their class (or of the global default), as
// Kubernetes' Priority admission plugin gives them; unknown classes and
// caller-set values that disagree are refused with 403 and nothing is
// written; a second default class is refused.
func TestPriorityAdmission(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	pods := podClient(t, s)
	classes, err := rest.NewClient[*scheduling.PriorityClass](s.httpClient(t, true), s.URL(), registry.PriorityClassKind.Resource())
	if err != nil {
		t.Fatal(err)
	}
	mkClass := func(name string, value int32, def bool, policy api.PreemptionPolicy) error {
		pc := registry.PriorityClassKind.New()
		pc.Name, pc.Value, pc.GlobalDefault = name, value, def
		if policy != "" {
			pc.PreemptionPolicy = &policy
		}
		_, err := classes.Create(ctx, pc)
		return err
	}
	if err := mkClass("high", 1000, false, api.PreemptNever); err != nil {
		t.Fatal(err)
	}
	if err := mkClass("low", -5, false, ""); err != nil {
		t.Fatal(err)
	}
	i32 := func(v int32) *int32 { return &v }
	pol := func(p api.PreemptionPolicy) *api.PreemptionPolicy { return &p }

	type tc struct {
		name      string
		class     string
		priority  *int32
		policy    *api.PreemptionPolicy
		wantClass string
		want      int32
		wantPol   api.PreemptionPolicy
		wantErr   string // substring of the 403's message
	}
	run := func(t *testing.T, cases []tc) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := newPod("default", c.name, nil)
				p.Spec.PriorityClassName, p.Spec.Priority, p.Spec.PreemptionPolicy = c.class, c.priority, c.policy
				got, err := pods.Create(ctx, p)
				if c.wantErr != "" {
					if clientCode(err) != http.StatusForbidden || !strings.Contains(err.Error(), c.wantErr) {
						t.Fatalf("create: %v, want 403 containing %q", err, c.wantErr)
					}
					if _, err := pods.Get(ctx, "default", c.name); !errors.Is(err, store.ErrNotFound) {
						t.Fatalf("refused pod was written (get: %v)", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.Spec.PriorityClassName != c.wantClass || got.Spec.Priority == nil || *got.Spec.Priority != c.want ||
					got.Spec.PreemptionPolicy == nil || *got.Spec.PreemptionPolicy != c.wantPol {
					t.Fatalf("got class %q priority %v policy %v, want %q %d %s", got.Spec.PriorityClassName,
						deref(got.Spec.Priority), deref(got.Spec.PreemptionPolicy), c.wantClass, c.want, c.wantPol)
				}
			})
		}
	}
	run(t, []tc{
		{name: "no-class", wantClass: "", want: 0, wantPol: api.PreemptLowerPriority},
		{name: "high", class: "high", wantClass: "high", want: 1000, wantPol: api.PreemptNever},
		{name: "low", class: "low", wantClass: "low", want: -5, wantPol: api.PreemptLowerPriority},
		{name: "system", class: "system-cluster-critical", wantClass: "system-cluster-critical", want: 2000000000, wantPol: api.PreemptLowerPriority},
		{name: "same-priority", class: "high", priority: i32(1000), policy: pol(api.PreemptNever), wantClass: "high", want: 1000, wantPol: api.PreemptNever},
		{name: "unknown", class: "nope", wantErr: "no PriorityClass with name nope was found"},
		{name: "other-priority", class: "high", priority: i32(7), wantErr: "the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000"},
		{name: "priority-without-class", priority: i32(7), wantErr: "computed 0 from"},
		{name: "other-policy", class: "high", policy: pol(api.PreemptLowerPriority), wantErr: "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided"},
	})

	// A global default class applies to pods without a class, at once.
	if err := mkClass("dflt", 50, true, api.PreemptNever); err != nil {
		t.Fatal(err)
	}
	err = mkClass("dflt2", 60, true, "")
	if clientCode(err) != http.StatusForbidden || !strings.Contains(err.Error(), "PriorityClass dflt is already marked as default. Only one default can exist") {
		t.Fatalf("second default class: %v, want 403", err)
	}
	if _, err := classes.Get(ctx, "", "dflt2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused class was written (get: %v)", err)
	}
	run(t, []tc{
		{name: "defaulted", wantClass: "dflt", want: 50, wantPol: api.PreemptNever},
		{name: "named-over-default", class: "low", wantClass: "low", want: -5, wantPol: api.PreemptLowerPriority},
	})
}

// clientCode is the HTTP status of a typed client's error, or 0.
func clientCode(err error) int {
	var ce *rest.ClientError
	if errors.As(err, &ce) {
		return int(ce.Status.Code)
	}
	return 0
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
