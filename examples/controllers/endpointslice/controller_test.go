package endpointslice_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/controllers/endpointslice"
	"github.com/setpoint-dev/setpoint/store"
)

// env is an apiserver, a client and a running controller.
type env struct {
	t   *testing.T
	cs  *client.Clientset
	reg *prometheus.Registry
}

func start(t *testing.T, mutate ...func(*endpointslice.Config)) *env {
	t.Helper()
	s := controllertest.StartAPIServer(t)
	cs := controllertest.Clientset(t, s)
	reg := prometheus.NewRegistry()
	cfg := endpointslice.Config{Client: cs, Registerer: reg}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := endpointslice.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.RunInformers(t, cs)
	controllertest.Go(t, "endpointslice", c.Run)
	return &env{t: t, cs: cs, reg: reg}
}

// pod creates a pod labelled app=web on node n1 with container port
// "http" = 8080, then writes its status: Running, address ip, Ready as
// given.
func (e *env) pod(name, ip string, ready bool, mutate ...func(*api.Pod)) *api.Pod {
	e.t.Helper()
	ctx := context.Background()
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Labels = map[string]string{"app": "web"}
	p.Spec.NodeName = "n1"
	p.Spec.Containers = []api.Container{{Name: "c", Image: "nginx", Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
	for _, m := range mutate {
		m(p)
	}
	out, err := e.cs.Pods().Create(ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.status(out, ip, ready)
}

func (e *env) status(p *api.Pod, ip string, ready bool) *api.Pod {
	e.t.Helper()
	st := p.DeepCopy()
	st.Status.Phase = api.PodRunning
	st.Status.PodIP = ip
	st.Status.PodIPs = []api.PodIP{{IP: ip}}
	cond := api.ConditionFalse
	if ready {
		cond = api.ConditionTrue
	}
	st.Status.Conditions = []api.PodCondition{{Type: api.PodReady, Status: cond}}
	out, err := e.cs.Pods().UpdateStatus(context.Background(), st)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) service(name string, mutate ...func(*api.Service)) {
	e.t.Helper()
	s := &api.Service{}
	s.Namespace, s.Name = "default", name
	s.Labels = map[string]string{"tier": "front"}
	s.Spec.Selector = map[string]string{"app": "web"}
	s.Spec.Ports = []api.ServicePort{{Name: "web", Port: 80, TargetPort: api.FromString("http")}}
	for _, m := range mutate {
		m(s)
	}
	if _, err := e.cs.Services().Create(context.Background(), s); err != nil {
		e.t.Fatal(err)
	}
}

// slicesOf lists the service's slices.
func (e *env) slicesOf(svc string) ([]*discovery.EndpointSlice, error) {
	sel, err := store.ParseSelector(discovery.LabelServiceName + "=" + svc)
	if err != nil {
		return nil, err
	}
	l, err := e.cs.EndpointSlices().List(context.Background(), "default", store.ListOptions{Selector: sel})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

type cond struct{ ready, serving, terminating bool }

// endpoints returns the service's endpoints by address, checking each
// slice's ports against wantPort.
func (e *env) endpoints(svc string, wantPort int32) (map[string]discovery.Endpoint, error) {
	sl, err := e.slicesOf(svc)
	if err != nil {
		return nil, err
	}
	out := map[string]discovery.Endpoint{}
	for _, s := range sl {
		if len(s.Endpoints) > 0 && (len(s.Ports) != 1 || *s.Ports[0].Port != wantPort || *s.Ports[0].Name != "web") {
			return nil, fmt.Errorf("slice %s ports %+v, want web=%d", s.Name, s.Ports, wantPort)
		}
		for _, ep := range s.Endpoints {
			if _, dup := out[ep.Addresses[0]]; dup {
				return nil, fmt.Errorf("address %s in two slices", ep.Addresses[0])
			}
			out[ep.Addresses[0]] = ep
		}
	}
	return out, nil
}

func conditionsOf(ep discovery.Endpoint) cond {
	b := func(p *bool) bool { return p != nil && *p }
	return cond{b(ep.Conditions.Ready), b(ep.Conditions.Serving), b(ep.Conditions.Terminating)}
}

func (e *env) expect(svc string, want map[string]cond) {
	e.t.Helper()
	controllertest.Eventually(e.t, "endpoints of "+svc, func() error {
		got, err := e.endpoints(svc, 8080)
		if err != nil {
			return err
		}
		if len(got) != len(want) {
			return fmt.Errorf("%d endpoints, want %d: %+v", len(got), len(want), got)
		}
		for ip, w := range want {
			ep, ok := got[ip]
			if !ok {
				return fmt.Errorf("no endpoint %s", ip)
			}
			if c := conditionsOf(ep); c != w {
				return fmt.Errorf("%s: conditions %+v, want %+v", ip, c, w)
			}
			if ep.TargetRef == nil || ep.TargetRef.Kind != "Pod" || ep.NodeName == nil || *ep.NodeName != "n1" {
				return fmt.Errorf("%s: targetRef %+v nodeName %v", ip, ep.TargetRef, ep.NodeName)
			}
		}
		return nil
	})
}

// TestReadinessAndTerminating: the slice follows the pods' readiness, a
// named port resolves per pod, a terminating pod stays listed as serving
// but not ready, and a finished pod leaves.
func TestReadinessAndTerminating(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.service("web")
	a := e.pod("a", "10.1.0.1", true)
	b := e.pod("b", "10.1.0.2", false)
	e.expect("web", map[string]cond{"10.1.0.1": {true, true, false}, "10.1.0.2": {false, false, false}})

	e.status(b, "10.1.0.2", true)
	e.expect("web", map[string]cond{"10.1.0.1": {true, true, false}, "10.1.0.2": {true, true, false}})

	// A graceful delete: the pod stays (no kubelet confirms) with a deletion mark.
	if _, err := e.cs.Pods().Delete(ctx, "default", a.Name); err != nil {
		t.Fatal(err)
	}
	e.expect("web", map[string]cond{"10.1.0.1": {false, true, true}, "10.1.0.2": {true, true, false}})

	cur, err := e.cs.Pods().Get(ctx, "default", "b")
	if err != nil {
		t.Fatal(err)
	}
	cur.Status.Phase = api.PodSucceeded
	if _, err := e.cs.Pods().UpdateStatus(ctx, cur); err != nil {
		t.Fatal(err)
	}
	e.expect("web", map[string]cond{"10.1.0.1": {false, true, true}})

	sl, err := e.slicesOf("web")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sl {
		if s.Labels[discovery.LabelManagedBy] != endpointslice.DefaultManagedBy || s.Labels["tier"] != "front" {
			t.Errorf("slice %s labels %v", s.Name, s.Labels)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "Service" || s.OwnerReferences[0].Name != "web" {
			t.Errorf("slice %s owners %+v", s.Name, s.OwnerReferences)
		}
	}
	// The lag histogram has observations.
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == "setpoint_endpointslice_endpoints_lag_seconds" {
			n = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if n == 0 {
		t.Error("no endpoints lag observed")
	}
}

// TestHeadlessPublishNotReady: a headless service's endpoints carry the
// hostnames of pods naming it as subdomain; publishNotReadyAddresses makes
// not-ready pods ready; the slices are labelled headless.
func TestHeadlessPublishNotReady(t *testing.T) {
	e := start(t)
	e.service("db", func(s *api.Service) {
		s.Spec.ClusterIP = api.ClusterIPNone
		s.Spec.PublishNotReadyAddresses = true
	})
	e.pod("db-0", "10.2.0.1", false, func(p *api.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "db" })
	e.pod("other", "10.2.0.2", true, func(p *api.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "other", "elsewhere" })
	e.expect("db", map[string]cond{"10.2.0.1": {true, false, false}, "10.2.0.2": {true, true, false}})
	got, err := e.endpoints("db", 8080)
	if err != nil {
		t.Fatal(err)
	}
	if h := got["10.2.0.1"].Hostname; h == nil || *h != "db-0" {
		t.Errorf("db-0 hostname %v, want db-0", h)
	}
	if h := got["10.2.0.2"].Hostname; h != nil {
		t.Errorf("other hostname %q, want none (subdomain names another service)", *h)
	}
	sl, _ := e.slicesOf("db")
	for _, s := range sl {
		if _, ok := s.Labels[endpointslice.LabelHeadless]; !ok {
			t.Errorf("slice %s not labelled headless: %v", s.Name, s.Labels)
		}
	}
}

// Test150Pods: 150 pods make two slices of at most 100; removing 30 pods
// shrinks a slice in place rather than making a new one.
func Test150Pods(t *testing.T) {
	e := start(t)
	e.service("web")
	want := map[string]cond{}
	for i := range 150 {
		ip := fmt.Sprintf("10.3.%d.%d", i/200, i%200+1)
		e.pod(fmt.Sprintf("p%03d", i), ip, true)
		want[ip] = cond{true, true, false}
	}
	e.expect("web", want)
	sizes := func() ([]int, []string, error) {
		sl, err := e.slicesOf("web")
		if err != nil {
			return nil, nil, err
		}
		var n []int
		var names []string
		for _, s := range sl {
			n = append(n, len(s.Endpoints))
			names = append(names, s.Name)
		}
		slices.Sort(n)
		slices.Sort(names)
		return n, names, nil
	}
	n, names, err := sizes()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n, []int{50, 100}) {
		t.Fatalf("slice sizes %v, want [50 100]", n)
	}
	ctx := context.Background()
	for i := range 30 {
		if err := e.cs.Pods().DeleteNow(ctx, "default", fmt.Sprintf("p%03d", i)); err != nil {
			t.Fatal(err)
		}
		delete(want, fmt.Sprintf("10.3.%d.%d", i/200, i%200+1))
	}
	e.expect("web", want)
	_, after, err := sizes()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, names) {
		t.Errorf("slices %v after removals, want the same slices %v", after, names)
	}
}

// TestPlaceholder: a service that selects nothing has one empty slice.
func TestPlaceholder(t *testing.T) {
	e := start(t)
	e.service("empty", func(s *api.Service) { s.Spec.Selector = map[string]string{"app": "none"} })
	controllertest.Eventually(t, "placeholder", func() error {
		sl, err := e.slicesOf("empty")
		if err != nil {
			return err
		}
		if len(sl) != 1 || len(sl[0].Endpoints) != 0 {
			return fmt.Errorf("slices %+v, want one empty", sl)
		}
		return nil
	})
}

func TestConfigValidate(t *testing.T) {
	cs := &client.Clientset{}
	for _, c := range []endpointslice.Config{{}, {Client: cs, MaxEndpointsPerSlice: -1}, {Client: cs, MaxEndpointsPerSlice: 1001},
		{Client: cs, BatchPeriod: -1}, {Client: cs, Workers: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
		if _, err := endpointslice.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
}
