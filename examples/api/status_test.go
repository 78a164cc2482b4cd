package api

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/store"
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
