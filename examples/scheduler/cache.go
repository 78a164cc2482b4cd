package scheduler

import (
	"fmt"
	"sync"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/scheduler/framework"
)

// cache is the scheduler's view of nodes and the pods counted on them:
// bound pods from the informer, and assumed pods (decided, binding in
// flight). An assumed pod is counted until its binding shows up in the
// informer or Forget drops it.
type cache struct {
	mu    sync.Mutex
	nodes map[string]*framework.NodeInfo
	// pods holds every counted pod by UID, with the node it is counted
	// on and whether it is only assumed.
	pods map[string]*podState
	// dirty names the nodes changed since the last snapshot.
	dirty map[string]struct{}
	// snap is the last snapshot: private clones, by name and in a list.
	snapList  []*framework.NodeInfo
	snapIndex map[string]int
}

type podState struct {
	info    *framework.PodInfo
	node    string
	assumed bool
}

func newCache() *cache {
	return &cache{nodes: map[string]*framework.NodeInfo{}, pods: map[string]*podState{},
		dirty: map[string]struct{}{}, snapIndex: map[string]int{}}
}

// nodeInfo returns the NodeInfo of name, created if needed, and marks it
// changed: callers change it.
func (c *cache) nodeInfo(name string) *framework.NodeInfo {
	c.dirty[name] = struct{}{}
	n := c.nodes[name]
	if n == nil {
		n = framework.NewNodeInfo(nil)
		c.nodes[name] = n
	}
	return n
}

// setNode adds or updates a node.
func (c *cache) setNode(node *api.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodeInfo(node.Name).SetNode(node)
}

// removeNode forgets a node; its pods stay counted under the name until
// they go, so that a node coming back finds them.
func (c *cache) removeNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[name]
	if n == nil {
		return
	}
	c.dirty[name] = struct{}{}
	if len(n.Pods) == 0 {
		delete(c.nodes, name)
		return
	}
	c.nodes[name] = framework.NewNodeInfo(nil, n.Pods...)
}

// setPod counts a bound pod (or moves it, or confirms an assumed one).
func (c *cache) setPod(pod *api.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		if ps.node == pod.Spec.NodeName && !ps.assumed && ps.info.Pod.ResourceVersion == pod.ResourceVersion {
			return
		}
		c.removeLocked(ps)
	}
	info := framework.NewPodInfo(pod)
	c.nodeInfo(pod.Spec.NodeName).AddPodInfo(info)
	c.pods[pod.UID] = &podState{info: info, node: pod.Spec.NodeName}
}

// removePod stops counting a pod.
func (c *cache) removePod(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[uid]; ok {
		c.removeLocked(ps)
	}
}

func (c *cache) removeLocked(ps *podState) {
	delete(c.pods, ps.info.Pod.UID)
	n := c.nodes[ps.node]
	if n == nil {
		return
	}
	c.dirty[ps.node] = struct{}{}
	_ = n.RemovePod(ps.info.Pod)
	if n.Node() == nil && len(n.Pods) == 0 {
		delete(c.nodes, ps.node)
	}
}

// assume counts info on node before the binding is done.
func (c *cache) assume(info *framework.PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[info.Pod.UID]; ok {
		return fmt.Errorf("pod %s/%s is already counted", info.Pod.Namespace, info.Pod.Name)
	}
	c.nodeInfo(node).AddPodInfo(info)
	c.pods[info.Pod.UID] = &podState{info: info, node: node, assumed: true}
	return nil
}

// forget drops an assumed pod whose binding failed; a pod the informer
// has confirmed meanwhile stays.
func (c *cache) forget(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[uid]; ok && ps.assumed {
		c.removeLocked(ps)
	}
}

// isAssumedOrBound reports whether a pod is counted on a node.
func (c *cache) counted(uid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pods[uid]
	return ok
}

// snapshot returns private copies of the NodeInfos of the known nodes,
// in no particular order. Only the nodes changed since the last call are
// copied again; the slice and its NodeInfos stay valid until the next
// call, which must come from the same goroutine.
func (c *cache) snapshot() []*framework.NodeInfo {
	nodes, _ := c.snapshotChanges()
	return nodes
}

// snapshotChanges is snapshot that also names the nodes that changed
// (added, updated or removed) since the last call.
func (c *cache) snapshotChanges() ([]*framework.NodeInfo, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := make([]string, 0, len(c.dirty))
	for name := range c.dirty {
		changed = append(changed, name)
		delete(c.dirty, name)
		n := c.nodes[name]
		i, inSnap := c.snapIndex[name]
		switch {
		case n != nil && n.Node() != nil && inSnap:
			c.snapList[i] = n.Clone()
		case n != nil && n.Node() != nil:
			c.snapIndex[name] = len(c.snapList)
			c.snapList = append(c.snapList, n.Clone())
		case inSnap:
			last := len(c.snapList) - 1
			moved := c.snapList[last]
			c.snapList[i] = moved
			c.snapIndex[moved.Node().Name] = i
			c.snapList[last] = nil
			c.snapList = c.snapList[:last]
			delete(c.snapIndex, name)
		}
	}
	return c.snapList, changed
}

// snapshotNode returns the last snapshot's NodeInfo of name, or nil; from
// the goroutine that takes snapshots.
func (c *cache) snapshotNode(name string) *framework.NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.snapIndex[name]; ok {
		return c.snapList[i]
	}
	return nil
}
