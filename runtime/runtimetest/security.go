package runtimetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/runtime"
)

func testImageStatus(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	img, err := rt.ImageStatus(ctx, TestImageName)
	if err != nil {
		t.Fatalf("ImageStatus: %v", err)
	}
	if img.Name != TestImageName || !strings.HasPrefix(img.Digest, "sha256:") || !strings.HasPrefix(img.ID, "sha256:") || img.ID == img.Digest ||
		img.Size <= 0 || img.User != "" || fmt.Sprint(img.Entrypoint) != "["+TestBinary+"]" || len(img.Cmd) != 0 || fmt.Sprint(img.Env) != "[PATH=/]" {
		t.Fatalf("ImageStatus = %+v", img)
	}
	list, err := rt.ListImages(ctx)
	if err != nil || len(list) != 1 || list[0].ID != img.ID || fmt.Sprint(list[0].Entrypoint) != fmt.Sprint(img.Entrypoint) {
		t.Fatalf("ListImages = %+v, %v; want %+v", list, err, img)
	}
	importNonRoot(ctx, t, rt)
	nr, err := rt.ImageStatus(ctx, NonRootImageName)
	if err != nil || nr.User != "65534:65534" || nr.ID == img.ID {
		t.Fatalf("ImageStatus(%s) = %+v, %v", NonRootImageName, nr, err)
	}
	_, err = rt.ImageStatus(ctx, "setpoint.test/absent:v1")
	wantErr(t, "ImageStatus(missing)", err, runtime.ErrImageNotFound)
	if !strings.Contains(err.Error(), "setpoint.test/absent:v1") {
		t.Fatalf("error %q does not name the image", err)
	}
	sb := mustSandbox(ctx, t, rt, pod("imageid"))
	c, err := rt.CreateContainer(ctx, sb, ctr("c", "exit", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := rt.ContainerStatus(ctx, c); err != nil || st.ImageID != img.ID || st.Image != TestImageName {
		t.Fatalf("ContainerStatus image = %q %q, %v; want %s", st.Image, st.ImageID, err, img.ID)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testMounts(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("mounts"))
	rw, ro := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(rw, "in.txt"), "from host\n")
	writeFile(t, filepath.Join(ro, "in.txt"), "read only\n")
	hosts := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hosts, "10.0.0.1\tcustom\n")
	conf := filepath.Join(t.TempDir(), "app.conf")
	writeFile(t, conf, "old\n")
	cfg := ctr("main",
		"cat", "/data/in.txt", "write", "/data/out.txt", "hello",
		"cat", "/ro/in.txt", "write", "/ro/x", "y",
		"cat", "/etc/hosts", "write", "/etc/hosts", "z",
		"write", "/conf/app.conf", "new",
		"write", "/cache/a", "shared", "wfill", "/cache/big", "2048")
	cfg.Mounts = []runtime.Mount{
		{ContainerPath: "/data", HostPath: rw},
		{ContainerPath: "/ro", HostPath: ro, ReadOnly: true},
		{ContainerPath: "/etc/hosts", HostPath: hosts, ReadOnly: true},
		{ContainerPath: "/conf/app.conf", HostPath: conf},
		{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache", SizeLimit: 1 << 20},
	}
	st, logs := runToExit(ctx, t, rt, sb, cfg)
	want := "from host\nwrote /data/out.txt\nread only\nwrite /ro/x: read-only file system\n" +
		"10.0.0.1\tcustom\nwrite /etc/hosts: read-only file system\nwrote /conf/app.conf\n" +
		"wrote /cache/a\nwfill /cache/big: no space left on device\n"
	if st.ExitCode != 0 || logs != want {
		t.Fatalf("exit %d, output:\n%s\nwant:\n%s", st.ExitCode, logs, want)
	}
	for p, want := range map[string]string{filepath.Join(rw, "out.txt"): "hello", conf: "new"} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Fatalf("host file %s = %q, %v; want %q written by the container", p, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); !os.IsNotExist(err) {
		t.Fatalf("a read-only mount was written: %v", err)
	}
	// The tmpfs volume is the sandbox's: shared with its other containers,
	// not with other sandboxes.
	share := ctr("share", "cat", "/cache/a")
	share.Mounts = []runtime.Mount{{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache", SizeLimit: 1 << 20}}
	// (The log ends every line, even the last one the program left open.)
	if _, logs := runToExit(ctx, t, rt, sb, share); logs != "shared\n" {
		t.Fatalf("second container of the sandbox reads %q from the tmpfs volume, want %q", logs, "shared\n")
	}
	other := mustSandbox(ctx, t, rt, pod("other"))
	if _, logs := runToExit(ctx, t, rt, other, share); logs != "cat /cache/a: no such file or directory\n" {
		t.Fatalf("another sandbox's volume of the same name holds %q", logs)
	}
	bad := share
	bad.Name = "resized"
	bad.Mounts = []runtime.Mount{{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache", SizeLimit: 2 << 20}}
	_, err := rt.CreateContainer(ctx, sb, bad)
	wantErr(t, "CreateContainer(tmpfs volume with another size)", err, runtime.ErrInvalid)
	if !strings.Contains(err.Error(), "mounts[0].sizeLimit") {
		t.Fatalf("error %q does not name mounts[0].sizeLimit", err)
	}
	for _, s := range []string{sb, other} {
		if err := rt.RemoveSandbox(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	noLeaks(t, h, rt, "after removing sandboxes with mounts and tmpfs volumes")
}

func testBadMounts(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("badmounts"))
	dir := t.TempDir()
	cases := []struct {
		mount   runtime.Mount
		mention string
	}{
		{runtime.Mount{ContainerPath: "/data", HostPath: "relative/dir"}, "mounts[0].hostPath"},
		{runtime.Mount{ContainerPath: "/data", HostPath: filepath.Join(dir, "missing")}, "does not exist"},
		{runtime.Mount{ContainerPath: "data", HostPath: dir}, "mounts[0].containerPath"},
		{runtime.Mount{ContainerPath: "/a/../b", HostPath: dir}, "mounts[0].containerPath"},
		{runtime.Mount{ContainerPath: "/cache", Type: runtime.MountTmpfs}, "mounts[0].name"},
		{runtime.Mount{ContainerPath: "/cache", Type: "nfs"}, "mounts[0].type"},
	}
	for _, c := range cases {
		cfg := ctr("c", "exit", "0")
		cfg.Mounts = []runtime.Mount{c.mount}
		_, err := rt.CreateContainer(ctx, sb, cfg)
		wantErr(t, fmt.Sprintf("mount %+v", c.mount), err, runtime.ErrInvalid)
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("mount %+v: error %q does not mention %q", c.mount, err, c.mention)
		}
	}
	// A good tmpfs mount with a bad one after it: nothing is made.
	cfg := ctr("c", "exit", "0")
	cfg.Mounts = []runtime.Mount{
		{ContainerPath: "/cache", Type: runtime.MountTmpfs, Name: "cache"},
		{ContainerPath: "/data", HostPath: filepath.Join(dir, "missing")},
	}
	_, err := rt.CreateContainer(ctx, sb, cfg)
	wantErr(t, "CreateContainer(missing source after a tmpfs)", err, runtime.ErrInvalid)
	if !strings.Contains(err.Error(), "mounts[1].hostPath") {
		t.Fatalf("error %q does not name mounts[1].hostPath", err)
	}
	if l, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(l) != 0 {
		t.Fatalf("bad mounts left containers: %+v", l)
	}
	if err := rt.RemoveSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	noLeaks(t, h, rt, "after bad mounts")
}

func capLine(caps []string, nnp bool) string {
	n := 0
	if nnp {
		n = 1
	}
	return fmt.Sprintf("capeff=%016x nnp=%d", runtime.CapabilityMask(caps), n)
}

func int64p(v int64) *int64 { return &v }

func testSecurityContext(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("security"))
	cases := []struct {
		name string
		sc   runtime.SecurityContext
		want string
	}{
		{"default", runtime.SecurityContext{}, "uid=0 gid=0 groups=0\n" + capLine(runtime.DefaultCapabilities, false)},
		{"user", runtime.SecurityContext{RunAsUser: int64p(1000), RunAsGroup: int64p(3000), SupplementalGroups: []int64{5000, 4000}, NoNewPrivileges: true},
			"uid=1000 gid=3000 groups=3000,4000,5000\n" + capLine(nil, true)},
		{"user-only", runtime.SecurityContext{RunAsUser: int64p(1234)}, "uid=1234 gid=0 groups=0\n" + capLine(nil, false)},
		{"caps", runtime.SecurityContext{Capabilities: runtime.Capabilities{Add: []string{"NET_ADMIN", "cap_sys_time"}, Drop: []string{"CHOWN"}}},
			"uid=0 gid=0 groups=0\n" + capLine(runtime.SecurityContext{Capabilities: runtime.Capabilities{Add: []string{"NET_ADMIN", "SYS_TIME"}, Drop: []string{"CHOWN"}}}.CapabilitySet(), false)},
		{"drop-all", runtime.SecurityContext{Capabilities: runtime.Capabilities{Drop: []string{"ALL"}, Add: []string{"NET_BIND_SERVICE"}}},
			"uid=0 gid=0 groups=0\n" + capLine([]string{"CAP_NET_BIND_SERVICE"}, false)},
	}
	for _, c := range cases {
		cfg := ctr(c.name, "id", "caps")
		cfg.Security = c.sc
		st, logs := runToExit(ctx, t, rt, sb, cfg)
		if st.ExitCode != 0 || logs != c.want+"\n" {
			t.Errorf("%s: exit %d, output %q, want %q", c.name, st.ExitCode, logs, c.want+"\n")
		}
	}
	if sc := (runtime.SecurityContext{Capabilities: runtime.Capabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"CHOWN"}}}).CapabilitySet(); fmt.Sprint(sc) == fmt.Sprint(runtime.DefaultCapabilities) {
		t.Fatal("adding and dropping capabilities changed nothing")
	}
	// Privileged: every capability the node has.
	priv := ctr("privileged", "caps")
	priv.Security.Privileged = true
	_, logs := runToExit(ctx, t, rt, sb, priv)
	var mask uint64
	var nnp int
	if _, err := fmt.Sscanf(logs, "capeff=%x nnp=%d\n", &mask, &nnp); err != nil {
		t.Fatalf("privileged output %q: %v", logs, err)
	}
	if all := runtime.CapabilityMask(runtime.AllCapabilities) & nodeCapabilities(t); mask&all != all || nnp != 0 {
		t.Fatalf("privileged container has capabilities %016x, want all of %016x", mask, all)
	}
	// A read-only root file system; mounts stay writable.
	ro := ctr("readonly", "write", "/tmp/x", "1", "write", "/scratch/x", "2", "cat", "/scratch/x")
	ro.Security.ReadOnlyRootFilesystem = true
	ro.Mounts = []runtime.Mount{{ContainerPath: "/scratch", Type: runtime.MountTmpfs, Name: "scratch"}}
	if _, logs := runToExit(ctx, t, rt, sb, ro); logs != "write /tmp/x: read-only file system\nwrote /scratch/x\n2\n" {
		t.Fatalf("read-only root: %q", logs)
	}
	writable := ctr("writable", "write", "/tmp/x", "1", "cat", "/tmp/x")
	if _, logs := runToExit(ctx, t, rt, sb, writable); logs != "wrote /tmp/x\n1\n" {
		t.Fatalf("writable root: %q", logs)
	}
	bad := ctr("bad", "exit", "0")
	bad.Security.Capabilities.Add = []string{"NOT_A_CAP"}
	_, err := rt.CreateContainer(ctx, sb, bad)
	wantErr(t, "unknown capability", err, runtime.ErrInvalid)
	if !strings.Contains(err.Error(), "security.capabilities.add[0]") {
		t.Fatalf("error %q does not name the field", err)
	}
}

func testRunAsNonRoot(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	importNonRoot(ctx, t, rt)
	named, err := TestImageWithUser("setpoint.test/testbin-named:v1", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ImportImage(ctx, strings.NewReader(string(named))); err != nil {
		t.Fatal(err)
	}
	sb := mustSandbox(ctx, t, rt, pod("nonroot"))
	nonRoot := runtime.SecurityContext{RunAsNonRoot: true}
	for _, c := range []struct {
		name, image, mention string
		sc                   runtime.SecurityContext
	}{
		{"root-image", TestImageName, TestImageName, nonRoot},
		{"named-user", "setpoint.test/testbin-named:v1", "non-numeric", nonRoot},
		{"uid-0", TestImageName, "runAsUser is 0", runtime.SecurityContext{RunAsNonRoot: true, RunAsUser: int64p(0)}},
	} {
		cfg := ctr(c.name, "id")
		cfg.Image, cfg.Security = c.image, c.sc
		_, err := rt.CreateContainer(ctx, sb, cfg)
		wantErr(t, c.name, err, runtime.ErrInvalid)
		if !strings.Contains(err.Error(), "runAsNonRoot") || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: error %q does not name runAsNonRoot and %q", c.name, err, c.mention)
		}
	}
	if l, _ := rt.ListContainers(ctx, runtime.ContainerFilter{}); len(l) != 0 {
		t.Fatalf("refused containers were created: %+v", l)
	}
	ok := ctr("as-user", "id")
	ok.Security = runtime.SecurityContext{RunAsNonRoot: true, RunAsUser: int64p(1000)}
	if _, logs := runToExit(ctx, t, rt, sb, ok); logs != "uid=1000 gid=0 groups=0\n" {
		t.Fatalf("runAsNonRoot with runAsUser 1000: %q", logs)
	}
	img := ctr("image-user", "id")
	img.Image, img.Security = NonRootImageName, nonRoot
	if _, logs := runToExit(ctx, t, rt, sb, img); logs != "uid=65534 gid=65534 groups=65534\n" {
		t.Fatalf("runAsNonRoot with a non-root image: %q", logs)
	}
}

// cpuOK checks what the limits step prints for CPU shares: cgroup v1 shows
// cpu.shares, v2 cpu.weight, which the runtime maps from shares.
func cpuOK(field string, shares int64) bool {
	k, v, _ := strings.Cut(field, "=")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false
	}
	switch k {
	case "shares":
		return n == shares
	case "weight":
		return n == 1+((shares-2)*9999)/262142
	}
	return false
}

func testResourcesInCgroup(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("cgroup"))
	cfg := ctr("limited", "limits")
	cfg.Resources = runtime.Resources{CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20, PidsLimit: 64}
	_, logs := runToExit(ctx, t, rt, sb, cfg)
	f := strings.Fields(logs)
	if len(f) != 4 || strings.Join(f[:3], " ") != "memory=67108864 pids=64 cfs=50000/100000" || !cpuOK(f[3], 512) {
		t.Fatalf("limits seen in the container: %q", logs)
	}
	_, logs = runToExit(ctx, t, rt, sb, ctr("unlimited", "limits"))
	if f := strings.Fields(logs); len(f) != 4 || strings.Join(f[:3], " ") != "memory=max pids=max cfs=max/100000" {
		t.Fatalf("limits of an unlimited container: %q", logs)
	}
	// A process executed in the container runs under its limits.
	pids := ctr("pids", "wait")
	pids.Resources.PidsLimit = 64
	id := MustStart(ctx, t, rt, sb, pids)
	WaitState(ctx, t, rt, id, runtime.ContainerRunning)
	res, err := runtime.ExecSync(ctx, rt, id, []string{TestBinary, "limits"})
	if err != nil || !strings.HasPrefix(string(res.Stdout), "memory=max pids=64 ") {
		t.Fatalf("exec sees limits %q, %v", res.Stdout, err)
	}
}

// nodeCapabilities returns the node's capability bounding set: no container
// can have more.
func nodeCapabilities(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return 0
}

// testSeccomp: RuntimeDefault and Localhost put the process under a
// seccomp filter, Unconfined and privileged containers under none; a bad
// profile is refused, leaving nothing behind.
func testSeccomp(t *testing.T, h Harness) {
	ctx, rt := setup(t, h)
	sb := mustSandbox(ctx, t, rt, pod("seccomp"))
	allowAll := []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}`)
	cases := []struct {
		name       string
		sc         runtime.SecurityContext
		wantFilter bool
	}{
		{"unconfined", runtime.SecurityContext{}, false},
		{"runtime-default", runtime.SecurityContext{Seccomp: runtime.Seccomp{Type: runtime.SeccompRuntimeDefault}}, true},
		{"localhost", runtime.SecurityContext{Seccomp: runtime.Seccomp{Type: runtime.SeccompLocalhost, Profile: allowAll}}, true},
		{"privileged", runtime.SecurityContext{Privileged: true, Seccomp: runtime.Seccomp{Type: runtime.SeccompRuntimeDefault}}, false},
	}
	for _, c := range cases {
		cfg := ctr(c.name, "seccomp", "id")
		cfg.Security = c.sc
		want := "seccomp=0\nuid=0 gid=0 groups=0\n"
		if c.wantFilter {
			want = "seccomp=2\nuid=0 gid=0 groups=0\n"
		}
		if st, logs := runToExit(ctx, t, rt, sb, cfg); st.ExitCode != 0 || logs != want {
			t.Errorf("%s: exit %d, output %q, want %q", c.name, st.ExitCode, logs, want)
		}
	}
	for _, c := range []struct {
		name, mention string
		s             runtime.Seccomp
	}{
		{"not-json", "security.seccomp.profile", runtime.Seccomp{Type: runtime.SeccompLocalhost, Profile: []byte("{")}},
		{"no-action", "defaultAction", runtime.Seccomp{Type: runtime.SeccompLocalhost, Profile: []byte(`{"syscalls":[]}`)}},
		{"empty", "security.seccomp.profile", runtime.Seccomp{Type: runtime.SeccompLocalhost}},
		{"unknown-type", "security.seccomp.type", runtime.Seccomp{Type: "Strict"}},
		{"profile-for-default", "security.seccomp.profile", runtime.Seccomp{Type: runtime.SeccompRuntimeDefault, Profile: allowAll}},
	} {
		cfg := ctr("bad-"+c.name, "exit", "0")
		cfg.Security.Seccomp = c.s
		_, err := rt.CreateContainer(ctx, sb, cfg)
		wantErr(t, c.name, err, runtime.ErrInvalid)
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: error %q does not name %s", c.name, err, c.mention)
		}
	}
	list, err := rt.ListContainers(ctx, runtime.ContainerFilter{SandboxID: sb})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if strings.HasPrefix(c.Name, "bad-") {
			t.Errorf("refused container %s was left behind", c.Name)
		}
	}
}
