package hub

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	mc "github.com/setpoint-dev/setpoint/examples/api/multicluster"
)

// Divide splits total replicas in proportion to weights by the largest
// remainder method (Hamilton's): each share is the floor of its quota and
// the replicas left over go one each to the largest remainders, ties to
// the lower index. The shares sum to total exactly whenever some weight
// is positive; with no positive weight every share is 0. Negative weights
// count as 0.
func Divide(total int32, weights []int64) []int32 {
	out := make([]int32, len(weights))
	sum := new(big.Int) // weights may be large capacities: exact arithmetic
	for _, w := range weights {
		if w > 0 {
			sum.Add(sum, big.NewInt(w))
		}
	}
	if total <= 0 || sum.Sign() == 0 {
		return out
	}
	type rem struct {
		i int
		r *big.Int // remainder of total*w/sum
	}
	rems := make([]rem, 0, len(weights))
	var given int32
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(int64(total)), big.NewInt(w)), sum, new(big.Int))
		out[i] = int32(q.Int64()) // at most total
		given += out[i]
		rems = append(rems, rem{i, r})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		if c := b.r.Cmp(a.r); c != 0 {
			return c
		}
		return a.i - b.i
	})
	for k := 0; given < total; k++ {
		out[rems[k].i]++
		given++
	}
	return out
}

// replicaRequests returns one replica's resource requests of a workload
// object: the sum over its pod template's containers.
func replicaRequests(obj []byte) (api.ResourceList, error) {
	var w struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Resources struct {
							Requests api.ResourceList `json:"requests"`
						} `json:"resources"`
					} `json:"containers"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(obj, &w); err != nil {
		return nil, fmt.Errorf("reading the pod template's requests: %w", err)
	}
	req := api.ResourceList{}
	for _, c := range w.Spec.Template.Spec.Containers {
		req = req.Add(c.Resources.Requests)
	}
	return req, nil
}

// capacity is how many replicas requesting req fit in a cluster's
// available resources: the least, over the resources requested, of
// available/requested (a resource the cluster does not report fits none).
// With no requests it is the cluster's available CPU in millicores, so
// clusters are still weighed by size.
func capacity(c *mc.ManagedCluster, req api.ResourceList) int64 {
	if len(req) == 0 {
		q := c.Status.Available[api.ResourceCPU]
		return max(q.MilliValue(), 0)
	}
	fit := int64(math.MaxInt64)
	for name, r := range req {
		if r.Sign() <= 0 {
			continue
		}
		a, ok := c.Status.Available[name]
		if !ok {
			return 0
		}
		fit = min(fit, max(a.MilliValue(), 0)/max(r.MilliValue(), 1))
	}
	if fit == math.MaxInt64 {
		return 0
	}
	return fit
}
