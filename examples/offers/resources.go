package offers

import (
	"fmt"

	"github.com/setpoint-dev/setpoint/examples/api"
)

// MaxResourceNames is how many distinct resource names one Allocator
// tracks; a list naming more is rejected.
const MaxResourceNames = 8

// vec is an amount of each tracked resource, in milli-units, indexed by
// the allocator's resource-name table.
type vec [MaxResourceNames]int64

func (v vec) add(o vec) vec {
	for i := range v {
		v[i] += o[i]
	}
	return v
}

func (v vec) sub(o vec) vec {
	for i := range v {
		v[i] -= o[i]
	}
	return v
}

// fits reports whether v <= o in every resource.
func (v vec) fits(o vec) bool {
	for i := range v {
		if v[i] > o[i] {
			return false
		}
	}
	return true
}

func (v vec) isZero() bool { return v == vec{} }

// clampZero sets negative entries to zero.
func (v vec) clampZero() vec {
	for i := range v {
		if v[i] < 0 {
			v[i] = 0
		}
	}
	return v
}

// names interns resource names to vec indexes.
type names struct {
	list  []api.ResourceName
	index map[api.ResourceName]int
}

// vec converts l, interning new names; what names l (field) in errors.
func (n *names) vec(what string, l api.ResourceList) (vec, error) {
	var v vec
	for name, q := range l {
		if q.Sign() < 0 {
			return vec{}, fmt.Errorf("%s: %s %s is negative: %w", what, name, q, ErrInvalid)
		}
		i, ok := n.index[name]
		if !ok {
			if len(n.list) == MaxResourceNames {
				return vec{}, fmt.Errorf("%s: resource %s: more than %d distinct resource names: %w", what, name, MaxResourceNames, ErrInvalid)
			}
			if n.index == nil {
				n.index = map[api.ResourceName]int{}
			}
			i = len(n.list)
			n.index[name] = i
			n.list = append(n.list, name)
		}
		v[i] = q.MilliValue()
	}
	return v, nil
}

// list converts v back to a ResourceList, omitting zeros.
func (n *names) toList(v vec) api.ResourceList {
	l := make(api.ResourceList, len(n.list))
	for i, name := range n.list {
		if v[i] == 0 {
			continue
		}
		f := api.DecimalSI
		if name == api.ResourceMemory || name == api.ResourceEphemeralStorage {
			f = api.BinarySI
		}
		if v[i]%1000 == 0 {
			l[name] = api.NewQuantity(v[i]/1000, f)
		} else {
			l[name] = api.NewMilliQuantity(v[i], f)
		}
	}
	return l
}

// qty formats amount (milli-units) of resource i.
func (n *names) qty(i int, amount int64) string {
	var v vec
	v[i] = amount
	q := n.toList(v)[n.list[i]]
	return q.String()
}

// name returns the resource name of index i.
func (n *names) name(i int) api.ResourceName { return n.list[i] }
