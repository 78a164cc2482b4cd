package plugins

import (
	"context"
	"fmt"
	"testing"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
	"github.com/setpoint-dev/setpoint/store"
)

// BenchmarkInterPodAffinityCycle times one scheduling cycle's
// InterPodAffinity work (PreFilter, Filter on every node, PreScore, Score
// on every node) on 1,000 nodes in 10 zones, for pods of three groups
// with required anti-affinity to their group by hostname and preferred
// affinity to it by zone (the shape of bench's sched-antiaffinity-1000n),
// each placed on a node before the next cycle.
func BenchmarkInterPodAffinityCycle(b *testing.B) {
	for _, c := range []struct {
		name string
		pl   InterPodAffinity
	}{{"fresh", InterPodAffinity{}}, {"kept", NewInterPodAffinity(0)}} {
		b.Run(c.name, func(b *testing.B) {
			const nodes, zones, groups = 1000, 10, 3
			infos := make([]*framework.NodeInfo, nodes)
			for i := range infos {
				name := fmt.Sprintf("node-%d", i)
				infos[i] = framework.NewNodeInfo(&api.Node{ObjectMeta: store.ObjectMeta{Name: name,
					Labels: map[string]string{hostKey: name, zoneKey: fmt.Sprintf("z%d", i%zones), "kubernetes.io/os": "linux"}}})
			}
			pod := func(i int) *framework.PodInfo {
				g := fmt.Sprintf("g%d", i%groups)
				sel := matchLabels("group", g)
				p := affinity(tpod(fmt.Sprintf("p%d", i), "default", "group", g), nil,
					pref(weighted(100, term(zoneKey, sel))), req(term(hostKey, sel)), nil)
				return framework.NewPodInfo(p)
			}
			// Half full: each group's pods on half the nodes.
			for i := range nodes * groups / 2 {
				infos[(i/groups)%nodes].AddPodInfo(pod(i))
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p := pod(i)
				state := framework.NewCycleState()
				framework.WriteAllNodes(state, infos)
				if st := c.pl.PreFilter(ctx, state, p, infos); !st.IsSuccess() {
					b.Fatal(st)
				}
				fit := -1
				for j, n := range infos {
					if c.pl.Filter(ctx, state, p, n).IsSuccess() && fit < 0 {
						fit = j
					}
				}
				if st := c.pl.PreScore(ctx, state, p, infos); !st.IsSuccess() {
					b.Fatal(st)
				}
				for _, n := range infos {
					c.pl.Score(ctx, state, p, n)
				}
				// Place it (a node changes), and take one off elsewhere
				// so that the cluster does not fill up.
				if fit >= 0 {
					infos[fit].AddPodInfo(p)
				}
				if n := infos[(i*7)%nodes]; len(n.Pods) > 0 {
					_ = n.RemovePod(n.Pods[0].Pod)
				}
			}
		})
	}
}
