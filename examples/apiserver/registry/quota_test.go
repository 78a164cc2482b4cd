package registry

import (
	"errors"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

func TestQuota(t *testing.T) {
	p := validPod()
	p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: "b", Image: "b", Resources: api.ResourceRequirements{
		Requests: api.ResourceList{"cpu": api.MustParse("250m"), "memory": api.MustParse("64Mi")},
		Limits:   api.ResourceList{"memory": api.MustParse("128Mi")},
	}})
	p.Spec.InitContainers = []api.Container{{Name: "init", Image: "i", Resources: api.ResourceRequirements{Requests: api.ResourceList{"memory": api.MustParse("1Gi")}}}}
	u := PodUsage(p)
	for n, want := range map[api.ResourceName]string{"pods": "1", "requests.cpu": "350m", "cpu": "350m", "requests.memory": "1Gi", "limits.cpu": "1", "limits.memory": "128Mi"} {
		if q := u[n]; q.String() != want {
			t.Errorf("usage %s = %s, want %s", n, q.String(), want)
		}
	}
	p.Status.Phase = api.PodSucceeded
	if len(PodUsage(p)) != 0 {
		t.Error("finished pods count nothing")
	}
	hard := api.ResourceList{"pods": api.MustParse("2"), "requests.cpu": api.MustParse("1")}
	used := api.ResourceList{"pods": api.MustParse("1"), "requests.cpu": api.MustParse("700m")}
	if err := CheckQuota("compute", hard, used, api.ResourceList{"pods": api.MustParse("1"), "requests.cpu": api.MustParse("300m")}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	err := CheckQuota("compute", hard, used, api.ResourceList{"pods": api.MustParse("1"), "requests.cpu": api.MustParse("301m")})
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "exceeded quota: compute, requested: requests.cpu=301m, used: requests.cpu=700m, limited: requests.cpu=1" {
		t.Fatalf("err = %v", err)
	}
	err = CheckQuota("compute", hard, used, api.ResourceList{"pods": api.MustParse("1")})
	if !errors.Is(err, ErrQuotaExceeded) || err.Error() != "exceeded quota: compute, must specify requests.cpu" {
		t.Fatalf("missing request: %v", err)
	}
	sum := used.Add(api.ResourceList{"pods": api.MustParse("1"), "memory": api.MustParse("1Gi")})
	if q := sum["pods"]; q.String() != "2" || len(sum) != 3 {
		t.Fatalf("Add: %v", sum)
	}
	if q := used["pods"]; q.String() != "1" {
		t.Fatal("Add modified its receiver")
	}
}
