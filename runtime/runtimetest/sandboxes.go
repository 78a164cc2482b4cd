package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/runtime"
)

func testImages(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	rt := h.New(t, nil)
	imgs, err := rt.ImportImage(ctx, bytes.NewReader(TestImage(t)))
	if err != nil {
		t.Fatalf("ImportImage: %v", err)
	}
	if len(imgs) != 1 || imgs[0].Name != TestImageName || !strings.HasPrefix(imgs[0].Digest, "sha256:") {
		t.Fatalf("ImportImage = %+v, want one image %s with a digest", imgs, TestImageName)
	}
	got, err := rt.EnsureImage(ctx, TestImageName)
	if err != nil || got.Digest != imgs[0].Digest {
		t.Fatalf("EnsureImage(local) = %+v, %v; want digest %s", got, err, imgs[0].Digest)
	}
	list, err := rt.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].Name != TestImageName {
		t.Fatalf("ListImages = %+v, %v", list, err)
	}
	// Nothing listens on port 1: the pull must fail at once, and say so.
	start := time.Now()
	_, err = rt.EnsureImage(ctx, "localhost:1/nothing/here:v1")
	wantErr(t, "EnsureImage(unreachable registry)", err, runtime.ErrImageNotFound)
	wantErr(t, "EnsureImage(unreachable registry)", err, runtime.ErrUnavailable)
	if time.Since(start) > deadline {
		t.Fatalf("EnsureImage(unreachable registry) took %v", time.Since(start))
	}
	_, err = rt.ImportImage(ctx, strings.NewReader("this is not a tar archive"))
	wantErr(t, "ImportImage(garbage)", err, runtime.ErrInvalid)
	if err := rt.RemoveImage(ctx, TestImageName); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	wantErr(t, "RemoveImage again", rt.RemoveImage(ctx, TestImageName), runtime.ErrImageNotFound)
	if list, _ := rt.ListImages(ctx); len(list) != 0 {
		t.Fatalf("ListImages after remove = %+v", list)
	}
	_, err = rt.CreateContainer(ctx, "no-such-sandbox", ctr("x"))
	wantErr(t, "CreateContainer(missing sandbox)", err, runtime.ErrNotFound)
}

func testSandboxLifecycle(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("web")
	id := mustSandbox(ctx, t, rt, cfg)
	if id != runtime.SandboxID(cfg) {
		t.Fatalf("RunSandbox id %s, want %s", id, runtime.SandboxID(cfg))
	}
	_, err := rt.RunSandbox(ctx, cfg)
	wantErr(t, "RunSandbox twice", err, runtime.ErrAlreadyExists)
	st, err := rt.SandboxStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.SandboxReady || net.ParseIP(st.IP) == nil || st.Name != "web" || st.UID != "uid-web" || st.Namespace != "default" {
		t.Fatalf("SandboxStatus = %+v, want Ready with an IP", st)
	}
	if st.Labels["app"] != "web" || st.Labels[runtime.LabelPodUID] != "uid-web" || st.CreatedAt.IsZero() {
		t.Fatalf("SandboxStatus labels/created = %v %v", st.Labels, st.CreatedAt)
	}
	other := mustSandbox(ctx, t, rt, pod("db"))
	if o, _ := rt.SandboxStatus(ctx, other); o.IP == st.IP {
		t.Fatalf("two sandboxes share IP %s", st.IP)
	}
	c := MustStart(ctx, t, rt, id, ctr("main", "wait"))
	if err := rt.StopSandbox(ctx, id); err != nil {
		t.Fatalf("StopSandbox: %v", err)
	}
	if err := rt.StopSandbox(ctx, id); err != nil {
		t.Fatalf("StopSandbox again: %v", err)
	}
	st, _ = rt.SandboxStatus(ctx, id)
	if st.State != runtime.SandboxNotReady || st.IP != "" {
		t.Fatalf("after stop: %+v, want NotReady without IP", st)
	}
	if cs, _ := rt.ContainerStatus(ctx, c); cs.State != runtime.ContainerExited {
		t.Fatalf("container after StopSandbox is %s, want Exited", cs.State)
	}
	_, err = rt.CreateContainer(ctx, id, ctr("late", "wait"))
	wantErr(t, "CreateContainer in stopped sandbox", err, runtime.ErrFailedPrecondition)
	list, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{State: runtime.SandboxReady})
	if err != nil || len(list) != 1 || list[0].ID != other {
		t.Fatalf("ListSandboxes(Ready) = %+v, %v; want only %s", list, err, other)
	}
	if err := rt.RemoveSandbox(ctx, id); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
	_, err = rt.SandboxStatus(ctx, id)
	wantErr(t, "SandboxStatus after remove", err, runtime.ErrNotFound)
	_, err = rt.ContainerStatus(ctx, c)
	wantErr(t, "ContainerStatus of a removed sandbox's container", err, runtime.ErrNotFound)
	wantErr(t, "RemoveSandbox again", rt.RemoveSandbox(ctx, id), runtime.ErrNotFound)
	wantErr(t, "StopSandbox of removed", rt.StopSandbox(ctx, id), runtime.ErrNotFound)
	if err := rt.RemoveSandbox(ctx, other); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing every sandbox")
}

func testHostNetwork(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	cfg := pod("host")
	cfg.HostNetwork = true
	id := mustSandbox(ctx, t, rt, cfg)
	st, err := rt.SandboxStatus(ctx, id)
	if err != nil || st.State != runtime.SandboxReady || !st.HostNetwork || st.NetNS != "" {
		t.Fatalf("SandboxStatus = %+v, %v; want Ready, host network, no netns", st, err)
	}
	c := MustStart(ctx, t, rt, id, ctr("main", "print", "on-host"))
	if st := WaitState(ctx, t, rt, c, runtime.ContainerExited); st.ExitCode != 0 || st.Reason != runtime.ReasonCompleted {
		t.Fatalf("status = %+v, want exit 0 Completed", st)
	}
	if err := rt.RemoveSandbox(ctx, id); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after removing a host-network sandbox")
}

func testBadInput(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	_, err := rt.RunSandbox(ctx, runtime.SandboxConfig{Name: "Bad_Name", UID: "u"})
	wantErr(t, "RunSandbox(bad name)", err, runtime.ErrInvalid)
	bad := pod("bad")
	bad.Labels = map[string]string{runtime.LabelPodUID: "forged"}
	_, err = rt.RunSandbox(ctx, bad)
	wantErr(t, "RunSandbox(reserved label)", err, runtime.ErrInvalid)
	if l, _ := rt.ListSandboxes(ctx, runtime.SandboxFilter{}); len(l) != 0 {
		t.Fatalf("invalid sandboxes were created: %+v", l)
	}
	sb := mustSandbox(ctx, t, rt, pod("input"))
	cases := []struct {
		name     string
		cfg      runtime.ContainerConfig
		sentinel error
		mention  string
	}{
		{"missing image", runtime.ContainerConfig{Name: "a", Image: "setpoint.test/missing:v1"}, runtime.ErrImageNotFound, "setpoint.test/missing:v1"},
		{"invalid command", runtime.ContainerConfig{Name: "b", Image: TestImageName, Command: []string{"/no/such/binary"}}, runtime.ErrInvalid, "/no/such/binary"},
		{"bad memory limit", func() runtime.ContainerConfig {
			c := ctr("c", "wait")
			c.Resources.MemoryLimit = 1
			return c
		}(), runtime.ErrInvalid, "resources.memoryLimit"},
		{"bad cpu shares", func() runtime.ContainerConfig {
			c := ctr("d", "wait")
			c.Resources.CPUShares = 1
			return c
		}(), runtime.ErrInvalid, "resources.cpuShares"},
		{"bad env", func() runtime.ContainerConfig {
			c := ctr("e", "wait")
			c.Env = []string{"=x"}
			return c
		}(), runtime.ErrInvalid, "env[0]"},
		{"bad name", ctr("Not A Name"), runtime.ErrInvalid, "name"},
	}
	for _, c := range cases {
		_, err := rt.CreateContainer(ctx, sb, c.cfg)
		wantErr(t, c.name, err, c.sentinel)
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.mention)
		}
	}
	if l, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(l) != 0 {
		t.Fatalf("bad input left containers: %+v", l)
	}
	if err := rt.RemoveSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after bad input")
}

func testListByLabels(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	a := mustSandbox(ctx, t, rt, pod("a"))
	b := mustSandbox(ctx, t, rt, pod("b"))
	ca := MustStart(ctx, t, rt, a, ctr("web", "wait"))
	cb := MustStart(ctx, t, rt, b, ctr("web", "wait"))
	cb2, err := rt.CreateContainer(ctx, b, ctr("side", "wait"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(f runtime.ContainerFilter, want ...string) {
		t.Helper()
		got, err := rt.ListContainers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(sorted(want)) {
			t.Fatalf("ListContainers(%+v) = %v, want %v", f, ids, sorted(want))
		}
	}
	check(runtime.ContainerFilter{}, ca, cb, cb2)
	check(runtime.ContainerFilter{SandboxID: b}, cb, cb2)
	check(runtime.ContainerFilter{Labels: map[string]string{"role": "web"}}, ca, cb)
	check(runtime.ContainerFilter{Labels: map[string]string{runtime.LabelPodUID: "uid-a"}}, ca)
	check(runtime.ContainerFilter{State: runtime.ContainerCreated}, cb2)
	check(runtime.ContainerFilter{ID: ca}, ca)
	check(runtime.ContainerFilter{Labels: map[string]string{"role": "nope"}})
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{"app": "b"}})
	if err != nil || len(sbs) != 1 || sbs[0].ID != b {
		t.Fatalf("ListSandboxes(app=b) = %+v, %v", sbs, err)
	}
	// By the pod's reserved labels, as a kubelet finds one pod's sandboxes.
	sbs, err = rt.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{runtime.LabelPodNamespace: "default", runtime.LabelPodName: "b"}})
	if err != nil || len(sbs) != 1 || sbs[0].ID != b {
		t.Fatalf("ListSandboxes(pod default/b) = %+v, %v", sbs, err)
	}
	sbs, err = rt.ListSandboxes(ctx, runtime.SandboxFilter{Labels: map[string]string{runtime.LabelPodNamespace: "other", runtime.LabelPodName: "b"}})
	if err != nil || len(sbs) != 0 {
		t.Fatalf("ListSandboxes(pod other/b) = %+v, %v; want none", sbs, err)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// testConcurrentCreate races several callers making the same sandboxes, then
// the same containers: exactly one wins each, the others get ErrAlreadyExists.
func testConcurrentCreate(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	const pods, racers = 3, 3
	wins := map[string]int{}
	var mu sync.Mutex
	var errs []error
	race := func(make func(p int) (string, error)) {
		var wg sync.WaitGroup
		for p := 0; p < pods; p++ {
			for r := 0; r < racers; r++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id, err := make(p)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins[id]++
					case !errors.Is(err, runtime.ErrAlreadyExists):
						errs = append(errs, err)
					}
				}()
			}
		}
		wg.Wait()
	}
	race(func(p int) (string, error) { return rt.RunSandbox(ctx, pod(fmt.Sprintf("race-%d", p))) })
	race(func(p int) (string, error) {
		return rt.CreateContainer(ctx, runtime.SandboxID(pod(fmt.Sprintf("race-%d", p))), ctr("c", "wait"))
	})
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	sbs, err := rt.ListSandboxes(ctx, runtime.SandboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ctrs, err := rt.ListContainers(ctx, runtime.ContainerFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sbs) != pods || len(ctrs) != pods {
		t.Fatalf("%d sandboxes and %d containers exist, want %d of each", len(sbs), len(ctrs), pods)
	}
	for _, s := range sbs {
		t.Cleanup(func() { rt.RemoveSandbox(context.Background(), s.ID) })
		if wins[s.ID] != 1 {
			t.Fatalf("sandbox %s was created %d times", s.ID, wins[s.ID])
		}
	}
	for _, c := range ctrs {
		if wins[c.ID] != 1 {
			t.Fatalf("container %s was created %d times", c.ID, wins[c.ID])
		}
	}
	for _, s := range sbs {
		if err := rt.RemoveSandbox(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	noLeaks(t, h, rt, "after concurrent create and remove")
}

// testSandboxAttempts: a pod's next sandbox attempt is a separate sandbox
// whose containers (even with the same name and attempt) keep their own
// logs, and removing the old attempt leaves the new one alone.
func testSandboxAttempts(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	first := pod("again")
	second := first
	second.Attempt = 1
	sb0 := mustSandbox(ctx, t, rt, first)
	sb1 := mustSandbox(ctx, t, rt, second)
	if sb0 == sb1 {
		t.Fatalf("attempts 0 and 1 share sandbox ID %s", sb0)
	}
	c0 := MustStart(ctx, t, rt, sb0, ctr("main", "print", "first"))
	c1 := MustStart(ctx, t, rt, sb1, ctr("main", "print", "second"))
	if c0 == c1 {
		t.Fatalf("containers of two sandboxes share ID %s", c0)
	}
	for id, want := range map[string]string{c0: "first\n", c1: "second\n"} {
		WaitState(ctx, t, rt, id, runtime.ContainerExited)
		if got := ReadLogs(ctx, t, rt, id, runtime.LogOptions{}); got != want {
			t.Fatalf("logs of %s = %q, want %q", id, got, want)
		}
	}
	if err := rt.RemoveSandbox(ctx, sb0); err != nil {
		t.Fatal(err)
	}
	if got := ReadLogs(ctx, t, rt, c1, runtime.LogOptions{}); got != "second\n" {
		t.Fatalf("after removing attempt 0, logs of attempt 1 = %q", got)
	}
	if st, err := rt.SandboxStatus(ctx, sb1); err != nil || st.State != runtime.SandboxReady || st.Attempt != 1 {
		t.Fatalf("attempt 1 after removing attempt 0: %+v, %v", st, err)
	}
}
