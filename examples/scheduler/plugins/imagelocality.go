package plugins

import (
	"context"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// ImageLocalityName is the ImageLocality plugin's name.
const ImageLocalityName = "ImageLocality"

// ImageLocality thresholds, as Kubernetes': sums below 23 MiB score 0,
// and 1000 MiB per container scores MaxNodeScore.
const (
	mib                   int64 = 1 << 20
	imageMinThreshold           = 23 * mib
	imageMaxPerContainer        = 1000 * mib
	imageLocalityStateKey       = framework.StateKey("PreScore" + ImageLocalityName)
)

// ImageLocality is the ImageLocality plugin, following Kubernetes: a
// node scores by the sizes of the pod's (init and app) container images
// it already has (node status.images), each scaled by the fraction of
// all nodes that have the image, so that an image present everywhere
// does not pull pods together. The sum is clamped to [23 MiB, 1000 MiB ×
// containers] and mapped linearly to 0–100. Image names are compared
// with ":latest" added where no tag is given.
type ImageLocality struct{}

var (
	_ framework.PreScorePlugin = ImageLocality{}
	_ framework.ScorePlugin    = ImageLocality{}
)

// Name returns ImageLocalityName.
func (ImageLocality) Name() string { return ImageLocalityName }

// NormalizedImageName adds ":latest" to an image name without a tag.
func NormalizedImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return name
}

type imageState struct {
	// scaled is each wanted image's size × (nodes with it / all nodes).
	scaled     map[string]int64
	containers int
}

func (s *imageState) Clone() framework.StateData { return s }

func podImages(pod *api.Pod) map[string]bool {
	out := map[string]bool{}
	for i := range pod.Spec.InitContainers {
		out[NormalizedImageName(pod.Spec.InitContainers[i].Image)] = true
	}
	for i := range pod.Spec.Containers {
		out[NormalizedImageName(pod.Spec.Containers[i].Image)] = true
	}
	return out
}

// PreScore counts, over all nodes, the nodes holding each of the pod's
// images; Skip when no node holds any.
func (ImageLocality) PreScore(_ context.Context, state *framework.CycleState, p *framework.PodInfo, feasible []*framework.NodeInfo) *framework.Status {
	nodes := framework.AllNodes(state, feasible)
	want := podImages(p.Pod)
	size := map[string]int64{}
	count := map[string]int{}
	for _, n := range nodes {
		for _, img := range n.Node().Status.Images {
			for _, name := range img.Names {
				if name = NormalizedImageName(name); want[name] {
					size[name] = img.SizeBytes
					count[name]++
				}
			}
		}
	}
	if len(count) == 0 || len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &imageState{scaled: map[string]int64{}, containers: len(p.Pod.Spec.InitContainers) + len(p.Pod.Spec.Containers)}
	for name, c := range count {
		s.scaled[name] = int64(float64(size[name]) * float64(c) / float64(len(nodes)))
	}
	state.Write(imageLocalityStateKey, s)
	return nil
}

// Score sums the scaled sizes of the pod's images on the node.
func (ImageLocality) Score(_ context.Context, state *framework.CycleState, p *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*imageState](state, imageLocalityStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var sum int64
	seen := map[string]bool{}
	for _, img := range n.Node().Status.Images {
		for _, name := range img.Names {
			name = NormalizedImageName(name)
			if v, ok := s.scaled[name]; ok && !seen[name] {
				seen[name] = true
				sum += v
			}
		}
	}
	hi := imageMaxPerContainer * int64(s.containers)
	sum = min(max(sum, imageMinThreshold), hi)
	return framework.MaxNodeScore * (sum - imageMinThreshold) / (hi - imageMinThreshold), nil
}
