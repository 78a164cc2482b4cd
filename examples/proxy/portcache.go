package proxy

import (
	"cmp"
	"slices"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
)

// portCache holds the service ports of every Service, so that a sync
// rebuilds only those of the Services that changed. A service port that
// a rebuild finds equal to the cached one keeps its pointer: the backends
// see an unchanged port as the same *servicePort and skip it at the cost
// of a pointer comparison. Only the Run goroutine uses it.
type portCache struct {
	node string
	v6   bool
	// bySvc holds each Service's ports (namespace/name), in the order
	// servicePortsOf returns them.
	bySvc map[string][]*servicePort
	// sorted is every port sorted by key; index is each key's position
	// in it. Nil sorted: rebuild from bySvc.
	sorted []*servicePort
	index  map[string]int
}

func newPortCache(node string, v6 bool) *portCache {
	return &portCache{node: node, v6: v6, bySvc: map[string][]*servicePort{}}
}

// reset rebuilds every Service's ports from the full cache contents,
// keeping the pointers of unchanged ports.
func (c *portCache) reset(services []*api.Service, slices_ []*discovery.EndpointSlice) {
	bySlices := map[string][]*discovery.EndpointSlice{}
	for _, s := range slices_ {
		if k, ok := sliceService(s); ok {
			bySlices[k] = append(bySlices[k], s)
		}
	}
	old := c.bySvc
	c.bySvc = make(map[string][]*servicePort, len(services))
	for _, svc := range services {
		k := svc.Namespace + "/" + svc.Name
		if sps := keepEqual(old[k], servicePortsOf(svc, bySlices[k], c.node, c.v6)); len(sps) > 0 {
			c.bySvc[k] = sps
		}
	}
	c.sorted = nil
}

// update rebuilds the ports of the Service with key namespace/name from
// svc (nil: it is gone) and its slices. It reports whether any port
// changed.
func (c *portCache) update(key string, svc *api.Service, sl []*discovery.EndpointSlice) bool {
	old := c.bySvc[key]
	var sps []*servicePort
	if svc != nil {
		sps = keepEqual(old, servicePortsOf(svc, sl, c.node, c.v6))
	}
	if slices.Equal(old, sps) {
		return false
	}
	if len(sps) == 0 {
		delete(c.bySvc, key)
	} else {
		c.bySvc[key] = sps
	}
	if c.sorted == nil || len(old) != len(sps) {
		c.sorted = nil
		return true
	}
	for i, sp := range sps {
		j, ok := c.index[sp.key()]
		if !ok || c.sorted[j] != old[i] {
			// (the keys moved: rebuild)
			c.sorted = nil
			return true
		}
		c.sorted[j] = sp
	}
	return true
}

// keepEqual returns sps with each port that equals one of old replaced by
// that one.
func keepEqual(old, sps []*servicePort) []*servicePort {
	for i, sp := range sps {
		for _, o := range old {
			if o.key() == sp.key() && o.equal(sp) {
				sps[i] = o
				break
			}
		}
	}
	return sps
}

// list returns every service port sorted by key. The caller must not
// change the slice; it stays valid until the next update or reset.
func (c *portCache) list() []*servicePort {
	if c.sorted != nil {
		return c.sorted
	}
	n := 0
	for _, sps := range c.bySvc {
		n += len(sps)
	}
	c.sorted = make([]*servicePort, 0, n)
	for _, sps := range c.bySvc {
		c.sorted = append(c.sorted, sps...)
	}
	slices.SortFunc(c.sorted, func(a, b *servicePort) int { return cmp.Compare(a.key(), b.key()) })
	c.index = make(map[string]int, len(c.sorted))
	for i, sp := range c.sorted {
		c.index[sp.key()] = i
	}
	return c.sorted
}
