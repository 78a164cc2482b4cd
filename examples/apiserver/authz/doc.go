// Package authz holds the example apiserver's authorizers: Kubernetes'
// role-based access control (RBAC) over informer caches of Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings, the Node authorizer
// for kubelets, the default (bootstrap) policy, cluster role aggregation
// and the escalation check on writes of roles and bindings.
//
// # Contract
//
//   - Authorizers answer Allow, Deny or NoOpinion with a reason; a Chain
//     asks each in turn, and NoOpinion at its end means forbidden (as
//     --authorization-mode=Node,RBAC does).
//   - RBAC allows a request when a rule of a role bound to the user's
//     name, one of its groups or its service account allows it, with
//     Kubernetes' matching: "*" for any verb, group or resource; "*/sub"
//     and "res/*" for subresources; resourceNames only for requests that
//     name one; non-resource URLs exactly or by a "*" suffix. Cluster
//     role bindings apply everywhere, role bindings in their namespace
//     only. RBAC never denies, and reads only its caches: decisions see
//     every change the caches have received, in store order.
//   - Escalation: ConfirmNoEscalation refuses (with Kubernetes' message,
//     naming each missing permission) rules the user does not hold in
//     the namespace; a "*" is covered only by a "*".
//   - Bootstrap policy: BootstrapClusterRoles and
//     BootstrapClusterRoleBindings name and grant what Kubernetes'
//     bootstrap policy does (cluster-admin, admin, edit, view,
//     system:basic-user, system:discovery, system:public-info-viewer,
//     system:kube-scheduler, system:volume-scheduler,
//     system:kube-controller-manager, system:node,
//     system:node-proxier, system:node-bootstrapper, the
//     system:certificates.k8s.io:* roles, ...). ReconcileClusterRole and
//     ReconcileClusterRoleBinding repair them at start, adding what is
//     missing and never removing what an administrator added, unless the
//     object is annotated rbac.authorization.kubernetes.io/autoupdate
//     "false". Differences: system:kube-controller-manager holds what all
//     our controllers need, since they run under one identity rather than
//     Kubernetes' one service account per controller.
//   - Aggregation: the Aggregator keeps each aggregated cluster role's
//     rules equal to the union of the rules of the cluster roles its
//     selectors match (an empty selector matches nothing), repeating
//     until nothing changes.
package authz
