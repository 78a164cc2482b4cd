package api

// Resource describes one kind of stored object: the same fields as
// store.Resource (plural name, apiVersion, kind, namespaced), so that
// store.Resource(r) converts it.
//
// TODO(lead): once store.Resource is on main, make this
// `type Resource = store.Resource`.
type Resource struct {
	// Name is the plural lowercase resource name, e.g. "pods".
	Name string
	// APIVersion is "v1" or "group/version".
	APIVersion string
	// Kind is the object's type name, e.g. "Pod".
	Kind string
	// Namespaced says whether objects live in a namespace.
	Namespaced bool
}

// Group returns the API group ("" for the core group).
func (r Resource) Group() string {
	for i := 0; i < len(r.APIVersion); i++ {
		if r.APIVersion[i] == '/' {
			return r.APIVersion[:i]
		}
	}
	return ""
}

// Version returns the API version within the group, e.g. "v1".
func (r Resource) Version() string {
	for i := 0; i < len(r.APIVersion); i++ {
		if r.APIVersion[i] == '/' {
			return r.APIVersion[i+1:]
		}
	}
	return r.APIVersion
}
