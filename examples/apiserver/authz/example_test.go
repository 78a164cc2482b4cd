package authz_test

import (
	"fmt"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver/authz"
	"github.com/setpoint-dev/setpoint/store"
)

func Example() {
	src := authz.NewMapSource(
		[]*rbac.Role{{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "pod-reader"},
			Rules: []rbac.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}},
		nil,
		[]*rbac.RoleBinding{{ObjectMeta: store.ObjectMeta{Namespace: "dev", Name: "alice"},
			Subjects: []rbac.Subject{{Kind: rbac.UserKind, Name: "alice"}},
			RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: "pod-reader"}}},
		nil)
	z := authz.NewRBAC(src)
	for _, verb := range []string{"list", "delete"} {
		d, why := z.Authorize(&authz.Attributes{User: authz.User{Name: "alice"}, Verb: verb,
			ResourceRequest: true, Resource: "pods", Namespace: "dev"})
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %v %s", verb, d, why)))
	}
	err := z.ConfirmNoEscalation(&authz.User{Name: "alice"}, "dev",
		[]rbac.PolicyRule{{Verbs: []string{"delete"}, APIGroups: []string{""}, Resources: []string{"pods"}}})
	fmt.Println(err)
	// Output:
	// list: allow RBAC: allowed by RoleBinding "dev/alice" of Role "pod-reader" to User "alice"
	// delete: no opinion
	// user "alice" (groups=[]) is attempting to grant RBAC permissions not currently held:
	// {APIGroups:[""], Resources:["pods"], Verbs:["delete"]}
}
