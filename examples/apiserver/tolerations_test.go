package apiserver

import (
	"context"
	"slices"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// TestDefaultTolerationSeconds: a new pod gets 300 s tolerations of both
// NoExecute node taints; one it already tolerates (by key, or with an
// empty key) is not added again; updates are left alone.
func TestDefaultTolerationSeconds(t *testing.T) {
	s := startServer(t)
	pods := podClient(t, s)
	ctx := context.Background()
	mk := func(name string, tols ...api.Toleration) *api.Pod {
		t.Helper()
		p := &api.Pod{}
		p.Namespace, p.Name = "default", name
		p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx"}}
		p.Spec.Tolerations = tols
		out, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	summary := func(p *api.Pod) []string {
		var out []string
		for _, tol := range p.Spec.Tolerations {
			s := tol.Key + "/" + string(tol.Operator) + "/" + string(tol.Effect) + "/"
			if tol.TolerationSeconds != nil {
				s += string(rune('0'+*tol.TolerationSeconds/100)) + "xx"
			}
			out = append(out, s)
		}
		return out
	}
	plain := mk("plain")
	want := []string{taintNotReady + "/Exists/NoExecute/3xx", taintUnreachable + "/Exists/NoExecute/3xx"}
	if got := summary(plain); !slices.Equal(got, want) {
		t.Errorf("plain pod tolerations %v, want %v", got, want)
	}
	ten := int64(10)
	own := mk("own", api.Toleration{Key: taintUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: &ten})
	if got := summary(own); !slices.Equal(got, []string{taintUnreachable + "/Exists/NoExecute/0xx", taintNotReady + "/Exists/NoExecute/3xx"}) {
		t.Errorf("pod with its own unreachable toleration: %v", got)
	}
	all := mk("all", api.Toleration{Operator: api.TolerationOpExists})
	if got := summary(all); !slices.Equal(got, []string{"/Exists//"}) {
		t.Errorf("pod tolerating everything: %v, want only its own", got)
	}
	// An update that drops the tolerations is not re-defaulted.
	plain.Spec.Tolerations = plain.Spec.Tolerations[:1]
	if _, err := pods.Update(ctx, plain); err == nil {
		got, err := pods.Get(ctx, "default", "plain")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Spec.Tolerations) != 1 {
			t.Errorf("update re-defaulted tolerations: %v", summary(got))
		}
	}
}
