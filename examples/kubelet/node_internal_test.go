package kubelet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// TestRegisterNodeRetriesConflicts: a kubelet registering a Node that
// exists writes its status even when other writers (node IPAM, the node
// lifecycle controller) change the Node between its read and its write,
// as Kubernetes' kubelet retries its status update; a Node that keeps
// changing gives up after nodeStatusUpdateRetry tries with the conflict
// named.
func TestRegisterNodeRetriesConflicts(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		conflicts int
		wantErr   bool
	}{
		{"three conflicts then success", 3, false},
		{"always conflicting", 1 << 30, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("node-%d", tc.conflicts%1000)
			if _, err := c.cs.Nodes().Create(ctx, &api.Node{ObjectMeta: store.ObjectMeta{Name: name}}); err != nil {
				t.Fatal(err)
			}
			k, err := New(Config{Client: c.cs, Runtime: fakeRuntime(t), NodeName: name, RootDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			k.beforeStatusWrite = func() {
				calls++
				if calls > tc.conflicts {
					return
				}
				n, err := c.cs.Nodes().Get(ctx, "", name)
				if err != nil {
					t.Error(err)
					return
				}
				n.Labels = map[string]string{"writer": fmt.Sprint(calls)}
				if _, err := c.cs.Nodes().Update(ctx, n); err != nil {
					t.Error(err)
				}
			}
			err = k.registerNode(ctx)
			if tc.wantErr {
				if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), fmt.Sprintf("after %d tries", nodeStatusUpdateRetry)) {
					t.Fatalf("registerNode on an ever-changing Node: %v, want a conflict after %d tries", err, nodeStatusUpdateRetry)
				}
				if calls != nodeStatusUpdateRetry {
					t.Fatalf("%d tries, want %d", calls, nodeStatusUpdateRetry)
				}
				return
			}
			if err != nil {
				t.Fatalf("registerNode: %v", err)
			}
			if calls != tc.conflicts+1 {
				t.Fatalf("%d tries, want %d", calls, tc.conflicts+1)
			}
			n, err := c.cs.Nodes().Get(ctx, "", name)
			if err != nil {
				t.Fatal(err)
			}
			ready := false
			for _, cond := range n.Status.Conditions {
				ready = ready || cond.Type == api.NodeReady && cond.Status == api.ConditionTrue
			}
			if !ready || n.Labels["writer"] != fmt.Sprint(tc.conflicts) {
				t.Fatalf("node after registration: ready=%v labels=%v, want Ready and the other writer's last label kept", ready, n.Labels)
			}
		})
	}
}
