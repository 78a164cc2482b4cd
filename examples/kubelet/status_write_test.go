package kubelet

import (
	"context"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// TestWriteStatusStaleCache: while the pod cache still holds the pod from
// before the kubelet's own status write, the same status is not written
// again, and a new one is written at the resourceVersion of that write
// (no conflict with itself).
func TestWriteStatusStaleCache(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	k, err := New(Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: "node-1", RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stale, err := c.cs.Pods().Create(ctx, newPod("st", "node-1", testContainer("main", "wait")))
	if err != nil {
		t.Fatal(err)
	}
	first := api.PodStatus{Phase: api.PodPending, Message: "first"}
	if err := k.writeStatus(ctx, stale, first); err != nil {
		t.Fatal(err)
	}
	after, err := c.cs.Pods().Get(ctx, "default", "st")
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion == stale.ResourceVersion || after.Status.Message != "first" {
		t.Fatalf("first write: resourceVersion %s -> %s, status %+v", stale.ResourceVersion, after.ResourceVersion, after.Status)
	}
	// The same status against the stale pod: nothing to write.
	if err := k.writeStatus(ctx, stale, first); err != nil {
		t.Fatalf("the same status again, from the stale cache: %v", err)
	}
	if now, _ := c.cs.Pods().Get(ctx, "default", "st"); now.ResourceVersion != after.ResourceVersion {
		t.Errorf("the same status was written again: resourceVersion %s -> %s", after.ResourceVersion, now.ResourceVersion)
	}
	// A new status against the stale pod: written, without a conflict.
	if err := k.writeStatus(ctx, stale, api.PodStatus{Phase: api.PodPending, Message: "second"}); err != nil {
		t.Fatalf("a new status, from the stale cache: %v", err)
	}
	if now, _ := c.cs.Pods().Get(ctx, "default", "st"); now.Status.Message != "second" {
		t.Errorf("status after the second write: %+v", now.Status)
	}
}
