package plugins

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// imageScorer adapts ImageLocality (no NormalizeScore) to the scorer
// helper.
type imageScorer struct{ ImageLocality }

func (imageScorer) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, _ []framework.NodeScore) *framework.Status {
	return nil
}

func TestImageLocality(t *testing.T) {
	withImages := func(name string, imgs ...api.ContainerImage) tnode {
		n := zoneNode(name, "a")
		n.images = imgs
		return n
	}
	img := func(size int64, names ...string) api.ContainerImage {
		return api.ContainerImage{Names: names, SizeBytes: size}
	}
	pod := func(images ...string) *api.Pod {
		p := tpod("p", "default")
		p.Spec.Containers = nil
		for _, i := range images {
			p.Spec.Containers = append(p.Spec.Containers, api.Container{Name: i, Image: i})
		}
		return p
	}
	tests := []struct {
		name  string
		pod   *api.Pod
		nodes []tnode
		want  map[string]int64
	}{
		{"no node has the image: skip", pod("web:1"), []tnode{withImages("n1", img(500*mib, "db:1"))}, nil},
		// 500 MiB on 1 of 2 nodes: 250 MiB → 100 × (250−23)/(1000−23) = 23.
		{"a big image on half the nodes", pod("web:1"), []tnode{withImages("n1", img(500*mib, "web:1")), withImages("n2")},
			map[string]int64{"n1": 23, "n2": 0}},
		// 2000 MiB on 1 of 1 node: clamped to 1000 MiB → 100.
		{"an image larger than the cap scores 100", pod("web:1"), []tnode{withImages("n1", img(2000*mib, "web:1"))},
			map[string]int64{"n1": 100}},
		{"below 23 MiB scores 0", pod("web:1"), []tnode{withImages("n1", img(20*mib, "web:1"))},
			map[string]int64{"n1": 0}},
		// "web" means "web:latest"; two containers: cap 2000 MiB.
		// 1200 MiB + 800 MiB on 1 of 1 node: 100 × (2000−23)/(2000−23) = 100.
		{"untagged names are :latest; the cap grows with containers", pod("web", "side:2"),
			[]tnode{withImages("n1", img(1200*mib, "docker.io/x", "web:latest"), img(800*mib, "side:2"))},
			map[string]int64{"n1": 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normalizedScores(t, imageScorer{}, framework.NewCycleState(), tc.pod, buildNodes(tc.nodes))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}
