package api

import "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopy"

// deepCopy copies through reflection; see internal/deepcopy.
func deepCopy[T any](v *T) *T { return deepcopy.Copy(v) }

// DeepCopy returns a deep copy of n (store.Clone uses it).
func (n *Namespace) DeepCopy() *Namespace { return deepCopy(n) }

// DeepCopy returns a deep copy of n (store.Clone uses it).
func (n *Node) DeepCopy() *Node { return deepCopy(n) }

// DeepCopy returns a deep copy of p (store.Clone uses it).
func (p *Pod) DeepCopy() *Pod { return deepCopy(p) }

// DeepCopy returns a deep copy of b.
func (b *Binding) DeepCopy() *Binding { return deepCopy(b) }

// DeepCopy returns a deep copy of s (store.Clone uses it).
func (s *Service) DeepCopy() *Service { return deepCopy(s) }

// DeepCopy returns a deep copy of e (store.Clone uses it).
func (e *Endpoints) DeepCopy() *Endpoints { return deepCopy(e) }

// DeepCopy returns a deep copy of e (store.Clone uses it).
func (e *Event) DeepCopy() *Event { return deepCopy(e) }

// DeepCopy returns a deep copy of l (store.Clone uses it).
func (l *Lease) DeepCopy() *Lease { return deepCopy(l) }

// DeepCopy returns a deep copy of q (store.Clone uses it).
func (q *ResourceQuota) DeepCopy() *ResourceQuota { return deepCopy(q) }

// DeepCopy returns a deep copy of r (store.Clone uses it).
func (r *ReplicaSet) DeepCopy() *ReplicaSet { return deepCopy(r) }

// DeepCopy returns a deep copy of d (store.Clone uses it).
func (d *Deployment) DeepCopy() *Deployment { return deepCopy(d) }

// DeepCopy returns a deep copy of s (store.Clone uses it).
func (s *StatefulSet) DeepCopy() *StatefulSet { return deepCopy(s) }

// DeepCopy returns a deep copy of d (store.Clone uses it).
func (d *DaemonSet) DeepCopy() *DaemonSet { return deepCopy(d) }

// DeepCopy returns a deep copy of s.
func (s *Scale) DeepCopy() *Scale { return deepCopy(s) }
