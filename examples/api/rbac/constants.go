package rbac

// Untyped constants of Kubernetes' rbac/v1 package: the group and the kinds
// a subject may be.
const (
	// GroupName is the RBAC API group.
	GroupName = "rbac.authorization.k8s.io"
	// UserKind, GroupKind and ServiceAccountKind are the kinds of a
	// Subject.
	UserKind           = "User"
	GroupKind          = "Group"
	ServiceAccountKind = "ServiceAccount"
	// VerbAll, ResourceAll, APIGroupAll and NonResourceAll are the
	// wildcard "*".
	VerbAll        = "*"
	ResourceAll    = "*"
	APIGroupAll    = "*"
	NonResourceAll = "*"
)
