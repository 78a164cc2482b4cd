package offers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/setpoint-dev/setpoint/examples/scheduler"
	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest"
)

func taskPod(name, framework, cpu, mem string) *api.Pod {
	p := &api.Pod{}
	p.Namespace, p.Name = "default", name
	p.Spec.SchedulerName = framework
	p.Spec.Containers = []api.Container{{Name: "c", Image: "task", Resources: api.ResourceRequirements{
		Requests: api.ResourceList{api.ResourceCPU: api.MustParse(cpu), api.ResourceMemory: api.MustParse(mem)}}}}
	return p
}

// startOffers runs an apiserver serving the offers group with one node n1
// of cpu and mem (and room for 110 pods, Ready), framework frameworks
// (name: task CPU, memory) and the task pods (name: framework, CPU,
// memory), and returns the client and the offers and frameworks clients.
func startOffers(t *testing.T, cpu, mem string, frameworks map[string][2]string, pods ...*api.Pod) (*apiserver.Server, *client.Clientset, *rest.Client[*offersapi.Offer], *rest.Client[*offersapi.Framework]) {
	t.Helper()
	s := controllertest.StartAPIServer(t, servesOffers)
	cs := controllertest.Clientset(t, s)
	ctx := context.Background()
	node := &api.Node{}
	node.Name = "n1"
	node.Status.Allocatable = api.ResourceList{api.ResourceCPU: api.MustParse(cpu), api.ResourceMemory: api.MustParse(mem), "pods": api.MustParse("110")}
	node.Status.Capacity = node.Status.Allocatable
	node.Status.Conditions = []api.NodeCondition{{Type: api.NodeReady, Status: api.ConditionTrue}}
	if _, err := cs.Nodes().Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	fws, err := client.For[*offersapi.Framework](cs, offersapi.FrameworkResource)
	if err != nil {
		t.Fatal(err)
	}
	offerClient, err := client.For[*offersapi.Offer](cs, offersapi.OfferResource)
	if err != nil {
		t.Fatal(err)
	}
	for name, task := range frameworks {
		f := &offersapi.Framework{}
		f.Name = name
		f.Spec.TaskResources = api.ResourceList{api.ResourceCPU: api.MustParse(task[0]), api.ResourceMemory: api.MustParse(task[1])}
		if _, err := fws.Create(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pods {
		if _, err := cs.Pods().Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return s, cs, offerClient, fws
}

// pendingOffer returns the first pending offer (to framework fw, if not
// empty).
func pendingOffer(ctx context.Context, offers *rest.Client[*offersapi.Offer], fw string) (*offersapi.Offer, error) {
	l, err := offers.List(ctx, "", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, o := range l.Items {
		if (fw == "" || o.Spec.Framework == fw) && o.Status.Phase == offersapi.OfferPending {
			return o, nil
		}
	}
	return nil, fmt.Errorf("no pending offer for %q among %d", fw, len(l.Items))
}

// setTasks accepts offer name with tasks, as a framework does.
func setTasks(t *testing.T, offers *rest.Client[*offersapi.Offer], name string, tasks ...string) {
	t.Helper()
	if _, err := offers.GuaranteedUpdate(context.Background(), "", name, func(o *offersapi.Offer) (*offersapi.Offer, error) {
		o.Spec.Tasks = tasks
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestControllerDRFOverTheAPI runs the allocator over a real apiserver on
// the DRF paper's example (Ghodsi et al., section 4.1): a node of <9 CPU,
// 18 GiB>, framework a's tasks <1 CPU, 4 GiB>, b's <3 CPU, 1 GiB>. The
// frameworks (played by the test) accept by naming their task pods in
// their offers; the allocator binds them: a runs 3 tasks and b 2, both at
// dominant share 2/3. Before that, bad accepts are rejected with the
// reason in the offer's status and nothing bound: tasks beyond the offer,
// and a task of another framework.
func TestControllerDRFOverTheAPI(t *testing.T) {
	s, cs, offerClient, fws := startOffers(t, "9", "18Gi", map[string][2]string{"a": {"1", "4Gi"}, "b": {"3", "1Gi"}},
		taskPod("a1", "a", "1", "4Gi"), taskPod("a2", "a", "1", "4Gi"), taskPod("a3", "a", "1", "4Gi"),
		taskPod("b1", "b", "3", "1Gi"), taskPod("b2", "b", "3", "1Gi"), taskPod("b3", "b", "3", "1Gi"))
	ctx := context.Background()
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "test",
		Allocator: offers.Config{OfferTimeout: time.Hour, HoardCycles: 1 << 20},
		Clock:     clockwork.NewFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "offers controller", c.Run)

	var offerA, offerB *offersapi.Offer
	controllertest.Eventually(t, "offers to a and b", func() (err error) {
		if offerA, err = pendingOffer(ctx, offerClient, "a"); err != nil {
			return err
		}
		offerB, err = pendingOffer(ctx, offerClient, "b")
		return err
	})
	if cpu := offerA.Spec.Resources[api.ResourceCPU]; cpu.Cmp(api.MustParse("3")) != 0 {
		t.Errorf("a's offer holds %v CPU, want 3 (three tasks by DRF)", cpu.String())
	}
	if cpu := offerB.Spec.Resources[api.ResourceCPU]; cpu.Cmp(api.MustParse("6")) != 0 {
		t.Errorf("b's offer holds %v CPU, want 6 (two tasks by DRF)", cpu.String())
	}
	out := controllertest.Kubectl(t, s, "get", "offers")
	if !strings.Contains(out, "n1") || !strings.Contains(out, "Pending") {
		t.Errorf("kubectl get offers:\n%s", out)
	}

	rejected := func(name, want string) {
		t.Helper()
		controllertest.Eventually(t, "offer "+name+" rejected", func() error {
			o, err := offerClient.Get(ctx, "", name)
			if err != nil {
				return err
			}
			if o.Status.Reason != offers.ReasonRejected || !strings.Contains(o.Status.Message, want) {
				return fmt.Errorf("status %+v, want reason Rejected naming %q", o.Status, want)
			}
			return nil
		})
	}
	noneBound := func() {
		t.Helper()
		l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Items {
			if p.Spec.NodeName != "" {
				t.Errorf("pod %s bound to %s after a rejected accept", p.Name, p.Spec.NodeName)
			}
		}
	}
	// b names three tasks (9 CPU) on an offer of 6.
	setTasks(t, offerClient, offerB.Name, "default/b1", "default/b2", "default/b3")
	rejected(offerB.Name, "exceed")
	// a names b's task.
	setTasks(t, offerClient, offerA.Name, "default/b1")
	rejected(offerA.Name, "framework a")
	noneBound()

	// The right accepts.
	setTasks(t, offerClient, offerA.Name, "default/a1", "default/a2", "default/a3")
	setTasks(t, offerClient, offerB.Name, "default/b1", "default/b2")
	controllertest.Eventually(t, "tasks bound and shares written", func() error {
		for _, name := range []string{"a1", "a2", "a3", "b1", "b2"} {
			p, err := cs.Pods().Get(ctx, "default", name)
			if err != nil {
				return err
			}
			if p.Spec.NodeName != "n1" {
				return fmt.Errorf("pod %s on %q", name, p.Spec.NodeName)
			}
		}
		for _, name := range []string{"a", "b"} {
			f, err := fws.Get(ctx, "", name)
			if err != nil {
				return err
			}
			if f.Status.DominantShare != "0.6667" {
				return fmt.Errorf("framework %s share %q, want 0.6667", name, f.Status.DominantShare)
			}
		}
		for _, name := range []string{offerA.Name, offerB.Name} {
			o, err := offerClient.Get(ctx, "", name)
			if err != nil {
				return err
			}
			if o.Status.Phase != offersapi.OfferAccepted {
				return fmt.Errorf("offer %s: %+v", name, o.Status)
			}
		}
		return nil
	})
	if p, _ := cs.Pods().Get(ctx, "default", "b3"); p.Spec.NodeName != "" {
		t.Errorf("b3 bound to %s; no offer named it", p.Spec.NodeName)
	}
	out = controllertest.Kubectl(t, s, "get", "frameworks")
	if strings.Count(out, "0.6667") != 2 {
		t.Errorf("kubectl get frameworks:\n%s", out)
	}
	if !c.IsLeader() {
		t.Error("the only controller does not lead")
	}
}

// TestControllerExpiredAccept: an offer unanswered for OfferTimeout (on
// the injected clock) is written Expired; an accept of it afterwards is
// rejected naming the expiry, and nothing is bound.
func TestControllerExpiredAccept(t *testing.T) {
	_, cs, offerClient, _ := startOffers(t, "4", "8Gi", map[string][2]string{"c": {"1", "1Gi"}}, taskPod("c1", "c", "1", "1Gi"))
	ctx := context.Background()
	fc := clockwork.NewFakeClock()
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "test",
		Allocator: offers.Config{OfferTimeout: 10 * time.Second, HoardCycles: 1 << 20}, Clock: fc,
		// The lease outlives the clock's steps.
		LeaseDuration: time.Hour, RenewDeadline: 30 * time.Minute, RetryPeriod: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "offers controller", c.Run)
	var offer *offersapi.Offer
	controllertest.Eventually(t, "an offer to c", func() (err error) {
		offer, err = pendingOffer(ctx, offerClient, "c")
		return err
	})
	fc.Advance(11 * time.Second)
	// Any change starts a round at the clock's new now.
	if _, err := cs.Pods().GuaranteedUpdate(ctx, "default", "c1", func(p *api.Pod) (*api.Pod, error) {
		p.Labels = map[string]string{"round": "1"}
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the offer expired", func() error {
		o, err := offerClient.Get(ctx, "", offer.Name)
		if err != nil {
			return err
		}
		if o.Status.Phase != offersapi.OfferExpired {
			return fmt.Errorf("status %+v", o.Status)
		}
		return nil
	})
	setTasks(t, offerClient, offer.Name, "default/c1")
	controllertest.Eventually(t, "the late accept rejected", func() error {
		o, err := offerClient.Get(ctx, "", offer.Name)
		if err != nil {
			return err
		}
		if o.Status.Phase != offersapi.OfferExpired || o.Status.Reason != offers.ReasonRejected || !strings.Contains(o.Status.Message, "expired") {
			return fmt.Errorf("status %+v, want Expired, Rejected, naming the expiry", o.Status)
		}
		return nil
	})
	if p, err := cs.Pods().Get(ctx, "default", "c1"); err != nil || p.Spec.NodeName != "" {
		t.Errorf("c1 after a rejected accept: %v, node %q", err, p.Spec.NodeName)
	}
}

// TestControllerBesideScheduler: the Kubernetes-style scheduler and the
// allocator share a node. The scheduler does not see offers, so it binds a
// pod on resources offered to a framework; the framework's accept is then
// rejected (the tasks would overcommit the node) and nothing of it is
// bound: the node's bound pods never exceed its allocatable.
func TestControllerBesideScheduler(t *testing.T) {
	_, cs, offerClient, _ := startOffers(t, "9", "18Gi", map[string][2]string{"a": {"1", "4Gi"}},
		taskPod("a1", "a", "1", "4Gi"), taskPod("a2", "a", "1", "4Gi"), taskPod("a3", "a", "1", "4Gi"))
	ctx := context.Background()
	c, err := offers.NewController(offers.ControllerConfig{Client: cs, Identity: "test",
		Allocator: offers.Config{OfferTimeout: time.Hour, HoardCycles: 1 << 20}, Clock: clockwork.NewFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "offers controller", c.Run)
	sched, err := scheduler.New(scheduler.Config{Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "scheduler", sched.Run)

	var offer *offersapi.Offer
	controllertest.Eventually(t, "an offer to a", func() (err error) {
		offer, err = pendingOffer(ctx, offerClient, "a")
		return err
	})
	if _, err := cs.Pods().Create(ctx, taskPod("k1", "", "7", "1Gi")); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "the scheduler binds k1", func() error {
		p, err := cs.Pods().Get(ctx, "default", "k1")
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "n1" {
			return fmt.Errorf("k1 on %q", p.Spec.NodeName)
		}
		return nil
	})
	setTasks(t, offerClient, offer.Name, "default/a1", "default/a2", "default/a3")
	controllertest.Eventually(t, "the accept rejected", func() error {
		o, err := offerClient.Get(ctx, "", offer.Name)
		if err != nil {
			return err
		}
		if o.Status.Reason != offers.ReasonRejected || !strings.Contains(o.Status.Message, "overcommit") {
			return fmt.Errorf("status %+v, want Rejected naming the overcommit", o.Status)
		}
		return nil
	})
	l, err := cs.Pods().List(ctx, "default", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cpu := api.MustParse("0")
	for _, p := range l.Items {
		if p.Spec.NodeName == "n1" {
			cpu = cpu.Add(p.Spec.Containers[0].Resources.Requests[api.ResourceCPU])
		}
		if p.Spec.SchedulerName == "a" && p.Spec.NodeName != "" {
			t.Errorf("task %s bound to %s after the rejected accept", p.Name, p.Spec.NodeName)
		}
	}
	if cpu.Cmp(api.MustParse("9")) > 0 {
		t.Errorf("n1's bound pods request %s CPU of 9", cpu.String())
	}
}

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestControllerDeposedLeaderFenced: controller A leads, then its clock
// stops (a paused process: it never notices it lost the lease) and B
// takes over. Both keep allocating; A's writes are refused as fenced, so
// the offers pending on the node never exceed it.
func TestControllerDeposedLeaderFenced(t *testing.T) {
	s, cs, offerClient, fws := startOffers(t, "4", "8Gi", map[string][2]string{"a": {"1", "1Gi"}})
	ctx := context.Background()
	// a wants one task in all, so that whichever leader offers it leaves
	// room on n1 for z (else z's offers would wait on whether the new
	// leader's first cycle came before z registered).
	if _, err := fws.GuaranteedUpdate(ctx, "", "a", func(f *offersapi.Framework) (*offersapi.Framework, error) {
		f.Spec.TotalResources = api.ResourceList{api.ResourceCPU: api.MustParse("1")}
		return f, nil
	}); err != nil {
		t.Fatal(err)
	}
	timing := func(c *offers.ControllerConfig) {
		c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 2*time.Second, 1500*time.Millisecond, 200*time.Millisecond
		c.Allocator = offers.Config{OfferTimeout: time.Hour, HoardCycles: 1 << 20}
	}
	var aLog lockedBuffer
	cfgA := offers.ControllerConfig{Client: cs, Identity: "a", Clock: clockwork.NewFakeClock(),
		Logger: slog.New(slog.NewJSONHandler(&aLog, nil))}
	timing(&cfgA)
	a, err := offers.NewController(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "controller a", a.Run)
	controllertest.Eventually(t, "a offers", func() error {
		_, err := pendingOffer(ctx, offerClient, "a")
		return err
	})
	cfgB := offers.ControllerConfig{Client: controllertest.Clientset(t, s), Identity: "b"}
	timing(&cfgB)
	// b takes over once a's 2 s lease lapses, and renews with room to
	// spare on a loaded machine.
	cfgB.LeaseDuration, cfgB.RenewDeadline = 20*time.Second, 15*time.Second
	b, err := offers.NewController(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	controllertest.Go(t, "controller b", b.Run)
	controllertest.Eventually(t, "b takes over", func() error {
		if !b.IsLeader() {
			return errors.New("not yet")
		}
		return nil
	})
	if !a.IsLeader() {
		t.Fatal("a noticed; the test wants a leader that believes it still leads")
	}
	// A new framework: both leaders offer it what is free.
	f := &offersapi.Framework{}
	f.Name = "z"
	f.Spec.TaskResources = api.ResourceList{api.ResourceCPU: api.MustParse("1"), api.ResourceMemory: api.MustParse("1Gi")}
	if _, err := fws.Create(ctx, f); err != nil {
		t.Fatal(err)
	}
	controllertest.Eventually(t, "a's writes refused as fenced", func() error {
		if l := aLog.String(); !strings.Contains(l, "Fenced") {
			return fmt.Errorf("a logged no fenced write: %s", l[max(0, len(l)-2000):])
		}
		return nil
	})
	controllertest.Eventually(t, "b offers z", func() error {
		_, err := pendingOffer(ctx, offerClient, "z")
		return err
	})
	l, err := offerClient.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cpu := api.MustParse("0")
	for _, o := range l.Items {
		if o.Status.Phase == offersapi.OfferPending {
			cpu = cpu.Add(o.Spec.Resources[api.ResourceCPU])
		}
	}
	if cpu.Cmp(api.MustParse("4")) > 0 {
		t.Errorf("pending offers hold %s CPU of n1's 4", cpu.String())
	}
}
