package store

// DeletePreconditions are the preconditions (and the propagation policy)
// a list of DeleteOptions sets, for implementations of Interface that pass
// them on (for example over HTTP as Kubernetes DeleteOptions). Empty
// fields set no precondition and no policy.
type DeletePreconditions struct {
	UID             string
	ResourceVersion string
	// PropagationPolicy is WithPropagationPolicy's value.
	PropagationPolicy PropagationPolicy
}

// ResolveDeleteOptions returns the preconditions opts set.
func ResolveDeleteOptions(opts ...DeleteOption) DeletePreconditions {
	var o deleteOptions
	for _, opt := range opts {
		opt(&o)
	}
	return DeletePreconditions{UID: o.uid, ResourceVersion: o.rv, PropagationPolicy: o.propagation}
}
