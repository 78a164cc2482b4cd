package containerdtest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/client"

	"github.com/setpoint-dev/setpoint/runtime/containerdtest"
)

func TestStartRestartStop(t *testing.T) {
	ctx := context.Background()
	d, err := containerdtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(d.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatalf("version: %v", err)
	}
	if v.Version == "" {
		t.Fatal("empty daemon version")
	}
	if err := d.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.IsServing(ctx); !ok || err != nil {
		t.Fatalf("after restart: serving=%v err=%v", ok, err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", d.Dir, err)
	}
}

func TestMissingDepsFailWithInstallCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := containerdtest.CheckDeps()
	if err == nil || !strings.Contains(err.Error(), containerdtest.InstallCommand) || !strings.Contains(err.Error(), "containerd") {
		t.Fatalf("CheckDeps with an empty PATH = %v, want the install command", err)
	}
	if _, err := containerdtest.Start(context.Background()); !errors.Is(err, containerdtest.ErrMissingDeps) {
		t.Fatalf("Start with an empty PATH = %v, want ErrMissingDeps", err)
	}
	if containerdtest.InstallCommand != "apt-get install -y containerd runc containernetworking-plugins iptables" {
		t.Fatalf("install command changed: %q", containerdtest.InstallCommand)
	}
}
