package registry

import (
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/batch"
)

func indexedJob(completions int32, rules ...batch.SuccessPolicyRule) *batch.Job {
	j := JobKind.New()
	j.Name, j.Namespace, j.UID = "j", "default", "uid-1"
	j.Spec.Completions = ptr(completions)
	j.Spec.CompletionMode = ptr(batch.IndexedCompletion)
	j.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever
	j.Spec.Template.Spec.Containers = []api.Container{{Name: "c", Image: "busybox"}}
	if rules != nil {
		j.Spec.SuccessPolicy = &batch.SuccessPolicy{Rules: rules}
	}
	JobKind.Default(j)
	generateJobSelector(j)
	return j
}

// TestJobSuccessPolicyValidation: each rule of Kubernetes' successPolicy
// validation, one bad input at a time, names the field and the problem.
func TestJobSuccessPolicyValidation(t *testing.T) {
	idx := func(s string) *string { return &s }
	cnt := func(n int32) *int32 { return &n }
	for _, good := range []*batch.Job{
		indexedJob(5, batch.SuccessPolicyRule{SucceededIndexes: idx("0,2-4")}),
		indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(5)}),
		indexedJob(10, batch.SuccessPolicyRule{SucceededIndexes: idx("1,3-5,9"), SucceededCount: cnt(5)}, batch.SuccessPolicyRule{SucceededCount: cnt(1)}),
	} {
		if err := JobKind.Validate(good); err != nil {
			t.Errorf("valid success policy %+v: %v", good.Spec.SuccessPolicy.Rules, err)
		}
	}
	manyRules := make([]batch.SuccessPolicyRule, 21)
	for i := range manyRules {
		manyRules[i].SucceededCount = cnt(1)
	}
	nonIndexed := indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(1)})
	nonIndexed.Spec.CompletionMode = ptr(batch.NonIndexedCompletion)
	noMode := indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(1)})
	noMode.Spec.CompletionMode = nil
	cases := []struct {
		name         string
		job          *batch.Job
		field, cause string
	}{
		{"non-indexed", nonIndexed, "spec.successPolicy", "requires completionMode Indexed"},
		{"no completion mode", noMode, "spec.successPolicy", "requires completionMode Indexed"},
		{"no rules", indexedJob(5, []batch.SuccessPolicyRule{}...), "spec.successPolicy.rules", "Required value"},
		{"21 rules", indexedJob(5, manyRules...), "spec.successPolicy.rules", "Too many: 21: must have at most 20 items"},
		{"empty rule", indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(1)}, batch.SuccessPolicyRule{}), "spec.successPolicy.rules[1]", "at least one of succeededCount or succeededIndexes"},
		{"empty indexes", indexedJob(5, batch.SuccessPolicyRule{SucceededIndexes: idx("")}), "spec.successPolicy.rules[0].succeededIndexes", "at least one index"},
		{"index beyond completions", indexedJob(5, batch.SuccessPolicyRule{SucceededIndexes: idx("1,5")}), "spec.successPolicy.rules[0].succeededIndexes", "too large: 5"},
		{"range beyond completions", indexedJob(5, batch.SuccessPolicyRule{SucceededIndexes: idx("2-7")}), "spec.successPolicy.rules[0].succeededIndexes", "too large: 7"},
		{"out of order", indexedJob(5, batch.SuccessPolicyRule{SucceededIndexes: idx("3,1")}), "spec.successPolicy.rules[0].succeededIndexes", "non-increasing order"},
		{"overlap", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx("1-4,3-6")}), "spec.successPolicy.rules[0].succeededIndexes", "non-increasing order"},
		{"backward range", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx("4-2")}), "spec.successPolicy.rules[0].succeededIndexes", "range end 2 is not above its start 4"},
		{"negative", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx("-1")}), "spec.successPolicy.rules[0].succeededIndexes", "is not a decimal index"},
		{"not a number", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx("1,x")}), "spec.successPolicy.rules[0].succeededIndexes", `"x" is not a decimal index`},
		{"trailing comma", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx("1,")}), "spec.successPolicy.rules[0].succeededIndexes", "is not a decimal index"},
		{"too long", indexedJob(9, batch.SuccessPolicyRule{SucceededIndexes: idx(strings.Repeat("1", 64*1024+1))}), "spec.successPolicy.rules[0].succeededIndexes", "Too long"},
		{"count zero", indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(0)}), "spec.successPolicy.rules[0].succeededCount", "greater than or equal to 1"},
		{"count above completions", indexedJob(5, batch.SuccessPolicyRule{SucceededCount: cnt(6)}), "spec.successPolicy.rules[0].succeededCount", "less than or equal to 5 (the number of specified completions)"},
		{"count above indexes", indexedJob(10, batch.SuccessPolicyRule{SucceededIndexes: idx("0,4-5"), SucceededCount: cnt(4)}), "spec.successPolicy.rules[0].succeededCount", "less than or equal to 3 (the number of indexes"},
	}
	for _, c := range cases {
		err := JobKind.Validate(c.job)
		wantFields(t, err, c.field)
		if !strings.Contains(err.Error(), c.cause) {
			t.Errorf("%s: error %q does not say %q", c.name, err, c.cause)
		}
	}
}

// TestJobSuccessPolicyImmutable: successPolicy cannot change after
// creation, in either direction, and the error names the field.
func TestJobSuccessPolicyImmutable(t *testing.T) {
	one := batch.SuccessPolicyRule{SucceededCount: ptr(int32(2))}
	old := indexedJob(5, one)
	for name, mutate := range map[string]func(*batch.Job){
		"changed": func(j *batch.Job) { j.Spec.SuccessPolicy.Rules[0].SucceededCount = ptr(int32(3)) },
		"removed": func(j *batch.Job) { j.Spec.SuccessPolicy = nil },
		"added rule": func(j *batch.Job) {
			j.Spec.SuccessPolicy.Rules = append(j.Spec.SuccessPolicy.Rules, batch.SuccessPolicyRule{SucceededCount: ptr(int32(1))})
		},
	} {
		nw := old.DeepCopy()
		mutate(nw)
		err := validateJobUpdate(old, nw).ErrOrNil()
		if err == nil {
			t.Errorf("%s: update allowed", name)
			continue
		}
		wantFields(t, err, "spec.successPolicy")
	}
	same := old.DeepCopy()
	same.Spec.Parallelism = ptr(int32(1))
	if err := validateJobUpdate(old, same).ErrOrNil(); err != nil {
		t.Fatalf("parallelism change with the same successPolicy: %v", err)
	}
}
