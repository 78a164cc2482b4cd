package store

// DeletePreconditions are the preconditions a list of DeleteOptions sets,
// for implementations of Interface that pass them on (for example over
// HTTP as Kubernetes DeleteOptions). Empty fields set no precondition.
type DeletePreconditions struct {
	UID             string
	ResourceVersion string
}

// ResolveDeleteOptions returns the preconditions opts set.
func ResolveDeleteOptions(opts ...DeleteOption) DeletePreconditions {
	var o deleteOptions
	for _, opt := range opts {
		opt(&o)
	}
	return DeletePreconditions{UID: o.uid, ResourceVersion: o.rv}
}
