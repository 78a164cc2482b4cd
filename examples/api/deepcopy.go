package api

import "github.com/setpoint-dev/setpoint/examples/api/internal/deepcopy"

// The DeepCopy methods of the resource types are generated into
// zz_generated_deepcopy.go by cmd/deepcopy-gen ("go generate
// ./examples/api"); TestDeepCopyGeneratedIsCurrent fails when that file is
// stale.
//
//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen -type Namespace,Node,Pod,Binding,Service,Endpoints,Event,ResourceQuota,ReplicaSet,Deployment,StatefulSet,DaemonSet,Scale,PodSpec,LabelSelector

// deepCopy copies any value through reflection; see internal/deepcopy. It
// serves the generic List and a few internal helpers.
func deepCopy[T any](v *T) *T { return deepcopy.Copy(v) }

// DeepCopy returns a deep copy of l; items use their own DeepCopy method
// when they have one.
func (l *List[T]) DeepCopy() *List[T] {
	if l == nil {
		return nil
	}
	out := &List[T]{TypeMeta: l.TypeMeta, ListMeta: l.ListMeta}
	if n := l.RemainingItemCount; n != nil {
		v := *n
		out.RemainingItemCount = &v
	}
	if l.Items != nil {
		out.Items = make([]T, len(l.Items))
		for i := range l.Items {
			if c, ok := any(&l.Items[i]).(interface{ DeepCopy() *T }); ok {
				out.Items[i] = *c.DeepCopy()
			} else {
				out.Items[i] = *deepCopy(&l.Items[i])
			}
		}
	}
	return out
}
