package framework_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
	"github.com/setpoint-dev/setpoint/examples/apiserver"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/examples/controllers/controllertest"
	"github.com/setpoint-dev/setpoint/examples/offers"
	"github.com/setpoint-dev/setpoint/examples/offers/framework"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

func res(cpu, mem string) api.ResourceList {
	return api.ResourceList{api.ResourceCPU: api.MustParse(cpu), api.ResourceMemory: api.MustParse(mem)}
}

// env is a cluster for framework tests: an apiserver serving the offers
// group, nodes (name → CPUs, 8 GiB per CPU) played by a NodeStandIn, and
// the allocator on clock.
type env struct {
	s      *apiserver.Server
	cs     *client.Clientset
	offers *rest.Client[*offersapi.Offer]
	fws    *rest.Client[*offersapi.Framework]
	clock  clockwork.Clock
}

func startEnv(t *testing.T, clock clockwork.Clock, nodes map[string]int) *env {
	t.Helper()
	s := controllertest.StartAPIServer(t, func(c *apiserver.Config) {
		c.ExtraKinds = append(c.ExtraKinds, apiserver.Serve(offers.FrameworkKind), apiserver.Serve(offers.OfferKind))
	})
	cs := controllertest.Clientset(t, s)
	var names []string
	for name, cpus := range nodes {
		n := &api.Node{}
		n.Name = name
		n.Status.Allocatable = res(fmt.Sprint(cpus), fmt.Sprintf("%dGi", 8*cpus))
		n.Status.Allocatable["pods"] = api.MustParse("110")
		n.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}}
		if _, err := cs.Nodes().Create(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	(&controllertest.NodeStandIn{Client: cs, Nodes: names}).Start(t)
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "allocator", Clock: clock,
		Allocator:     offers.Config{OfferTimeout: time.Hour, HoardCycles: 1 << 20},
		LeaseDuration: 10 * time.Hour, RenewDeadline: 5 * time.Hour, RetryPeriod: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "allocator", c.Run)
	e := &env{s: s, cs: cs, clock: clock}
	if e.offers, err = client.For[*offersapi.Offer](cs, offersapi.OfferResource); err != nil {
		t.Fatal(err)
	}
	if e.fws, err = client.For[*offersapi.Framework](cs, offersapi.FrameworkResource); err != nil {
		t.Fatal(err)
	}
	return e
}

// driver starts a driver for framework name (tasks of task) on cs until
// the test ends, or until the returned cancel.
func startDriver(t *testing.T, cs *client.Clientset, name string, task api.ResourceList, mutate ...func(*framework.Config)) (*framework.Driver, context.CancelFunc) {
	t.Helper()
	cfg := framework.Config{Client: cs, Framework: &offersapi.Framework{ObjectMeta: store.ObjectMeta{Name: name},
		Spec: offersapi.FrameworkSpec{TaskResources: task}}}
	for _, m := range mutate {
		m(&cfg)
	}
	d, err := framework.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, offers.ErrDriverStopped) {
				t.Errorf("driver %s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("driver %s did not stop", name)
		}
	})
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("driver %s: %v", name, err)
	}
	return d, cancel
}

func nextOffer(t *testing.T, d *framework.Driver) offersapi.Offer {
	t.Helper()
	select {
	case o, ok := <-d.Offers():
		if !ok {
			t.Fatalf("offers closed: %v", d.Err())
		}
		return o
	case <-time.After(60 * time.Second):
		t.Fatal("no offer")
	}
	return offersapi.Offer{}
}

// statuses reads task statuses until want (task → state) all hold.
func awaitStates(t *testing.T, d *framework.Driver, want map[string]offers.TaskState) map[string]string {
	t.Helper()
	got := map[string]offers.TaskState{}
	nodes := map[string]string{}
	deadline := time.After(60 * time.Second)
	for {
		done := true
		for task, s := range want {
			done = done && got[task] == s
		}
		if done {
			return nodes
		}
		select {
		case st := <-d.Statuses():
			got[st.Task], nodes[st.Task] = st.State, st.Node
		case <-deadline:
			t.Fatalf("task states %v, want %v", got, want)
		}
	}
}

func podsOf(t *testing.T, cs *client.Clientset, fw string) []*api.Pod {
	t.Helper()
	l, err := cs.Pods().List(context.Background(), "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*api.Pod
	for _, p := range l.Items {
		if p.Labels[framework.LabelFramework] == fw {
			out = append(out, p)
		}
	}
	return out
}

// TestDriverAcceptDeclineReject: a framework accepts an offer with tasks
// (they run on the offered node, statuses Running), has an accept beyond
// the offer rejected (ErrRejected naming the excess, its pods deleted:
// nothing launched), cannot answer an offer twice (ErrAnswered), and
// declines with a filter (the offer is written Declined with the refuse
// time). Another framework's accept of the offer is rejected too, and
// launches nothing.
func TestDriverAcceptDeclineReject(t *testing.T) {
	e := startEnv(t, clockwork.NewFakeClock(), map[string]int{"n1": 4})
	ctx := context.Background()
	task := res("1", "1Gi")
	d, _ := startDriver(t, e.cs, "fw", task)
	o := nextOffer(t, d)
	if n := framework.HowMany(o.Spec.Resources, task); n != 4 {
		t.Fatalf("offer %s fits %d tasks, want 4", o.Name, n)
	}
	// Beyond the offer: five tasks on four CPUs.
	var five []framework.Task
	for i := range 5 {
		five = append(five, framework.Task{Name: fmt.Sprintf("big%d", i), Resources: task})
	}
	err := d.Accept(ctx, o, five)
	if !errors.Is(err, framework.ErrRejected) || !strings.Contains(err.Error(), "5 requested of 4") {
		t.Fatalf("accept beyond the offer: %v, want ErrRejected naming the excess", err)
	}
	if pods := podsOf(t, e.cs, "fw"); len(pods) != 0 {
		t.Errorf("rejected accept left %d pods", len(pods))
	}
	if err := d.Accept(ctx, o, five[:2]); !errors.Is(err, framework.ErrAnswered) {
		t.Errorf("second accept of one offer: %v, want ErrAnswered", err)
	}
	if err := d.Accept(ctx, o, nil); !errors.Is(err, framework.ErrInvalid) {
		t.Errorf("accept with no tasks: %v, want ErrInvalid", err)
	}
	// The rejected offer stays pending; the framework declines it, and
	// is offered again when the allocator's clock passes the filter.
	if err := d.Decline(ctx, o, -time.Second); !errors.Is(err, framework.ErrInvalid) {
		t.Errorf("negative refuse: %v, want ErrInvalid", err)
	}
	if err := d.Decline(ctx, o, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the offer declined with 2 s", func() error {
		got, err := e.offers.Get(ctx, "", o.Name)
		if err != nil {
			return err
		}
		if got.Status.Phase != offersapi.OfferDeclined || *got.Spec.Decline.RefuseSeconds != 2 {
			return fmt.Errorf("offer %+v %+v", got.Spec.Decline, got.Status)
		}
		return nil
	})
	e.clock.(*clockwork.FakeClock).Advance(3 * time.Second)
	o2 := nextOffer(t, d)
	if o2.Name == o.Name {
		t.Fatalf("the declined offer delivered twice")
	}
	// Another framework accepts fw's offer: a foreign offer, rejected,
	// nothing launched.
	other, _ := startDriver(t, e.cs, "other", res("4", "4Gi"))
	err = other.Accept(ctx, o2, []framework.Task{{Name: "intruder", Resources: task}})
	if !errors.Is(err, framework.ErrRejected) || !errors.Is(err, offers.ErrForeignOffer) || !strings.Contains(err.Error(), "framework fw") {
		t.Fatalf("accept of another framework's offer: %v, want ErrRejected, ErrForeignOffer naming framework fw", err)
	}
	if pods := podsOf(t, e.cs, "other"); len(pods) != 0 {
		t.Errorf("rejected foreign accept left %d pods", len(pods))
	}

	if err := d.Accept(ctx, o2, []framework.Task{{Name: "a", Resources: task}, {Name: "b", Resources: task}}); err != nil {
		t.Fatal(err)
	}
	nodes := awaitStates(t, d, map[string]offers.TaskState{"a": offers.TaskRunning, "b": offers.TaskRunning})
	if nodes["a"] != "n1" || nodes["b"] != "n1" {
		t.Errorf("tasks on %v, want n1", nodes)
	}
	for _, p := range podsOf(t, e.cs, "fw") {
		if p.Spec.SchedulerName != "fw" || p.Spec.NodeName != "n1" {
			t.Errorf("task pod %s: scheduler %q node %q", p.Name, p.Spec.SchedulerName, p.Spec.NodeName)
		}
	}
	// A killed task is Lost and its resources come back.
	if err := d.Kill(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	awaitStates(t, d, map[string]offers.TaskState{"a": offers.TaskLost})
	controllertest.Eventually(t, "the framework's allocation shrinks to b", func() error {
		f, err := e.fws.Get(ctx, "", "fw")
		if err != nil {
			return err
		}
		if q := f.Status.Allocated[api.ResourceCPU]; q.Cmp(api.MustParse("1")) != 0 {
			return fmt.Errorf("allocated %v", f.Status.Allocated)
		}
		return nil
	})
}

// proxy forwards TCP connections to target until cut, which closes the
// listener and every connection: a crash, as far as the server can tell.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.cut {
				c.Close()
				u.Close()
			}
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.Cut)
	return p
}

// Cut closes the listener and every connection.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestFrameworkCrash: a framework whose connection dies (its process
// crashed: no release of its Lease) loses its offers once the allocator
// has not seen its Lease renewed for the Lease's duration, and its tasks
// keep running; the Framework's status says it is not registered. A
// driver stopped cleanly releases its Lease, and loses its offers at once.
func TestFrameworkCrash(t *testing.T) {
	fc := clockwork.NewFakeClock()
	e := startEnv(t, fc, map[string]int{"n1": 2, "n2": 2})
	ctx := context.Background()
	kc, err := e.s.Kubeconfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{Kubeconfig: kc, QPS: -1}
	addr := strings.TrimPrefix(e.cs.Server(), "https://")
	px := startProxy(t, addr)
	cfg.Kubeconfig = []byte(strings.ReplaceAll(string(kc), addr, px.ln.Addr().String()))
	crashing, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	task := res("1", "1Gi")
	d, _ := startDriver(t, crashing, "crashy", task, func(c *framework.Config) { c.LeaseDuration = 3 * time.Second })
	o := nextOffer(t, d)
	if err := d.Accept(ctx, o, []framework.Task{{Name: "t1", Resources: task}}); err != nil {
		t.Fatal(err)
	}
	awaitStates(t, d, map[string]offers.TaskState{"t1": offers.TaskRunning})
	// Its remaining resources are offered to it again.
	var pending *offersapi.Offer
	controllertest.Eventually(t, "crashy holds a pending offer", func() error {
		l, err := e.offers.List(ctx, "", store.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range l.Items {
			if o.Spec.Framework == "crashy" && o.Status.Phase == offersapi.OfferPending {
				pending = o
				return nil
			}
		}
		return errors.New("none")
	})

	px.Cut()
	// The allocator's clock passes the lease's duration with no renewal
	// seen.
	fc.Advance(2 * time.Second)
	fc.Advance(2 * time.Second)
	controllertest.Eventually(t, "crashy's offer rescinded", func() error {
		got, err := e.offers.Get(ctx, "", pending.Name)
		if err != nil {
			return err
		}
		if got.Status.Phase != offersapi.OfferRescinded || got.Status.Reason != "FrameworkRemoved" {
			fc.Advance(time.Second)
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	controllertest.Eventually(t, "crashy's status unregistered", func() error {
		f, err := e.fws.Get(ctx, "", "crashy")
		if err != nil {
			return err
		}
		if f.Status.Registered {
			return fmt.Errorf("crashed framework still registered: %+v", f.Status)
		}
		return nil
	})
	p, err := e.cs.Pods().Get(ctx, "default", "t1")
	if err != nil || p.Spec.NodeName == "" || p.Status.Phase != api.PodRunning || p.DeletionTimestamp != nil {
		t.Errorf("the crashed framework's task: %v %+v", err, p)
	}

	// A clean stop releases the lease: offers rescinded without waiting.
	d2, stop := startDriver(t, e.cs, "clean", task)
	o2 := nextOffer(t, d2)
	stop()
	controllertest.Eventually(t, "clean's offer rescinded", func() error {
		got, err := e.offers.Get(ctx, "", o2.Name)
		if err != nil {
			return err
		}
		if got.Status.Phase != offersapi.OfferRescinded {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
}
