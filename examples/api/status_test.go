package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/patch"
)

func TestInvalidStatus(t *testing.T) {
	p := validPod()
	p.Spec.Containers[0].Image = ""
	p.Spec.RestartPolicy = "Sometimes"
	*p.Spec.TerminationGracePeriodSeconds = -1
	err := PodKind.Validate(p)
	var fe = fieldErrorsOf(t, err)
	s := InvalidStatus(PodKind.Resource(), p.Name, fe)
	b, _ := json.Marshal(s)
	want := `{"apiVersion":"v1","kind":"Status","metadata":{},"status":"Failure",` +
		`"message":"Pod \"web\" is invalid: [spec.containers[0].image: Required value: a container image, spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\", spec.terminationGracePeriodSeconds: Invalid value: \"-1\": must be greater than or equal to 0]",` +
		`"reason":"Invalid","details":{"name":"web","kind":"Pod","causes":[` +
		`{"reason":"FieldValueRequired","message":"Required value: a container image","field":"spec.containers[0].image"},` +
		`{"reason":"FieldValueNotSupported","message":"Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"","field":"spec.restartPolicy"},` +
		`{"reason":"FieldValueInvalid","message":"Invalid value: \"-1\": must be greater than or equal to 0","field":"spec.terminationGracePeriodSeconds"}]},"code":422}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	d := validDeployment()
	d.Spec.Replicas = ptr(int32(-1))
	s = InvalidStatus(DeploymentKind.Resource(), "web", fieldErrorsOf(t, DeploymentKind.Validate(d)))
	if s.Details.Group != "apps" || s.Message != `Deployment "web" is invalid: spec.replicas: Invalid value: "-1": must be greater than or equal to 0` {
		t.Fatalf("deployment status: %+v", s)
	}
}

func TestQuota(t *testing.T) {
	p := validPod()
	p.Spec.Containers = append(p.Spec.Containers, Container{Name: "b", Image: "b", Resources: ResourceRequirements{
		Requests: ResourceList{"cpu": MustParse("250m"), "memory": MustParse("64Mi")},
		Limits:   ResourceList{"memory": MustParse("128Mi")},
	}})
	p.Spec.InitContainers = []Container{{Name: "init", Image: "i", Resources: ResourceRequirements{Requests: ResourceList{"memory": MustParse("1Gi")}}}}
	u := PodUsage(p)
	for n, want := range map[string]string{"pods": "1", "requests.cpu": "350m", "cpu": "350m", "requests.memory": "1Gi", "limits.cpu": "1", "limits.memory": "128Mi"} {
		if q := u[n]; q.String() != want {
			t.Errorf("usage %s = %s, want %s", n, q.String(), want)
		}
	}
	p.Status.Phase = PodSucceeded
	if len(PodUsage(p)) != 0 {
		t.Error("finished pods count nothing")
	}
	hard := ResourceList{"pods": MustParse("2"), "requests.cpu": MustParse("1")}
	used := ResourceList{"pods": MustParse("1"), "requests.cpu": MustParse("700m")}
	if err := CheckQuota("compute", hard, used, ResourceList{"pods": MustParse("1"), "requests.cpu": MustParse("300m")}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	err := CheckQuota("compute", hard, used, ResourceList{"pods": MustParse("1"), "requests.cpu": MustParse("301m")})
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "exceeded quota: compute, requested: requests.cpu=301m, used: requests.cpu=700m, limited: requests.cpu=1" {
		t.Fatalf("err = %v", err)
	}
	err = CheckQuota("compute", hard, used, ResourceList{"pods": MustParse("1")})
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "exceeded quota: compute, must specify requests.cpu" {
		t.Fatalf("missing request: %v", err)
	}
	sum := used.Add(ResourceList{"pods": MustParse("1"), "memory": MustParse("1Gi")})
	if q := sum["pods"]; q.String() != "2" || len(sum) != 3 {
		t.Fatalf("Add: %v", sum)
	}
	if q := used["pods"]; q.String() != "1" {
		t.Fatal("Add modified its receiver")
	}
}

func fieldErrorsOf(t *testing.T, err error) []*storeFieldError {
	t.Helper()
	fieldsOf(t, err) // checks the type
	return err.(storeFieldErrors)
}

type (
	storeFieldError  = store.FieldError
	storeFieldErrors = store.FieldErrors
)

func TestErrorStatus(t *testing.T) {
	pods, deploys := PodKind.Resource(), DeploymentKind.Resource()
	_, fsErr := PodKind.FieldFilter("spec.bogus=1")
	_, patchErr := patch.MergePatch([]byte(`{}`), []byte(`{`))
	_, testErr := patch.JSONPatch([]byte(`{"a":1}`), []byte(`[{"op":"test","path":"/a","value":2}]`))
	_, typeErr := patch.ParseType("text/plain")
	cases := []struct {
		err    error
		r      Resource
		code   int32
		reason string
		msg    string
	}{
		{fmt.Errorf("get: %w", store.ErrNotFound), pods, 404, "NotFound", `pods "web" not found`},
		{store.ErrNotFound, deploys, 404, "NotFound", `deployments.apps "web" not found`},
		{store.ErrAlreadyExists, pods, 409, "AlreadyExists", `pods "web" already exists`},
		{&store.ConflictError{Key: "/k", Expected: 1, Current: 2}, pods, 409, "Conflict", `Operation cannot be fulfilled on pods "web": conflict`},
		{store.ErrGone, pods, 410, "Expired", ""},
		{fmt.Errorf("%w: %w", store.ErrTooLarge, store.ErrInvalid), pods, 413, "RequestEntityTooLarge", ""},
		{store.FieldErrors{{Field: "spec.x", Reason: "Required value"}}, pods, 422, "Invalid", `Pod "web" is invalid: spec.x: Required value`},
		{&store.FieldError{Field: "metadata.name", Value: "A", Reason: "Invalid value: bad"}, pods, 422, "Invalid", `Pod "web" is invalid: metadata.name: Invalid value: "A": bad`},
		{fsErr, pods, 400, "BadRequest", `"spec.bogus" is not a known field selector`},
		{patchErr, pods, 400, "BadRequest", "not valid JSON"},
		{testErr, pods, 422, "Invalid", "test operation failed"},
		{typeErr, pods, 415, "UnsupportedMediaType", "unsupported patch type"},
		{fmt.Errorf("%w: q", ErrQuotaExceeded), pods, 403, "Forbidden", `pods "web" is forbidden: exceeded quota`},
		{context.DeadlineExceeded, pods, 504, "Timeout", ""},
		{errors.New("disk on fire"), pods, 500, "InternalError", "disk on fire"},
	}
	for _, c := range cases {
		s := ErrorStatus(c.err, c.r, "web")
		if s.Code != c.code || s.Reason != c.reason || !strings.Contains(s.Message, c.msg) || s.Kind != "Status" || s.Status != StatusFailure {
			t.Errorf("%v: got %d %s %q", c.err, s.Code, s.Reason, s.Message)
		}
	}
	if s := ErrorStatus(store.ErrNotFound, pods, "web"); s.Details == nil || s.Details.Name != "web" || s.Details.Kind != "pods" {
		t.Errorf("details: %+v", s.Details)
	}
	if s := ErrorStatus(nil, pods, ""); s.Code != 200 || s.Status != StatusSuccess {
		t.Error("nil error")
	}
}
