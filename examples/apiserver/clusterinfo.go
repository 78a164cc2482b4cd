package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/store"
)

// Anonymous requests, as Kubernetes names them.
const (
	// AnonymousUser is the user of a request without credentials when
	// Config.AnonymousAuth is on.
	AnonymousUser = "system:anonymous"
	// UnauthenticatedGroup is the group of AnonymousUser.
	UnauthenticatedGroup = "system:unauthenticated"
	// ClusterInfoRole is the Role (and RoleBinding) in kube-public that
	// lets AnonymousUser get the cluster-info ConfigMap, as kubeadm names
	// it.
	ClusterInfoRole = "kubeadm:bootstrap-signer-clusterinfo"
)

// anonymousAuthenticator is the last authenticator when anonymous requests
// are allowed: a request that presents no credentials at all (no
// Authorization header, no client certificate) is system:anonymous in
// group system:unauthenticated. A request with credentials that no
// authenticator accepted stays unauthenticated (401), as in Kubernetes.
type anonymousAuthenticator struct{}

func (anonymousAuthenticator) Authenticate(r *http.Request) *User {
	if r.Header.Get("Authorization") != "" || r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return nil
	}
	return &User{Name: AnonymousUser, Groups: []string{UnauthenticatedGroup}}
}

// clusterInfoKubeconfig is the kubeconfig cluster-info carries: the
// server and the CA, no user (kubeadm's format).
func clusterInfoKubeconfig(server string, caPEM []byte) (string, error) {
	b, err := json.MarshalIndent(map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"clusters":        []any{map[string]any{"name": "", "cluster": map[string]any{"server": server, "certificate-authority-data": caPEM}}},
		"contexts":        []any{},
		"users":           []any{},
		"current-context": "",
		"preferences":     map[string]any{},
	}, "", "  ")
	return string(b), err
}

// ensureClusterInfo creates the cluster-info ConfigMap in kube-public
// with the kubeconfig of server and the CA, or sets its kubeconfig if it
// names another server or CA (the bootstrap signer then re-signs it); it
// keeps every other key. It also creates the Role and RoleBinding that
// let anonymous users get it.
func ensureClusterInfo(ctx context.Context, b store.Backend, rs *resources, server string, caPEM []byte) error {
	kc, err := clusterInfoKubeconfig(server, caPEM)
	if err != nil {
		return err
	}
	cms, err := store.New[*api.ConfigMap](b, registry.ConfigMapKind.Resource())
	if err != nil {
		return err
	}
	want := registry.ConfigMapKind.New()
	want.Namespace, want.Name = bootstrap.ClusterInfoNamespace, bootstrap.ClusterInfoName
	want.Data = map[string]string{bootstrap.KubeconfigKey: kc}
	if _, err := cms.Create(ctx, want); err != nil {
		if !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("creating %s/%s: %w", want.Namespace, want.Name, err)
		}
		if _, err := cms.GuaranteedUpdate(ctx, want.Namespace, want.Name, func(have *api.ConfigMap) (*api.ConfigMap, error) {
			if have.Data[bootstrap.KubeconfigKey] == kc {
				return have, nil
			}
			if have.Data == nil {
				have.Data = map[string]string{}
			}
			for k := range have.Data {
				if strings.HasPrefix(k, bootstrap.JWSKeyPrefix) {
					delete(have.Data, k) // signatures of the old kubeconfig
				}
			}
			have.Data[bootstrap.KubeconfigKey] = kc
			return have, nil
		}); err != nil {
			return fmt.Errorf("updating %s/%s: %w", want.Namespace, want.Name, err)
		}
	}
	role := registry.RoleKind.New()
	role.Namespace, role.Name = bootstrap.ClusterInfoNamespace, ClusterInfoRole
	role.Rules = []rbac.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{bootstrap.ClusterInfoName}}}
	if _, err := rs.roles.st.Create(ctx, role); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("bootstrap policy: Role %s/%s: %w", role.Namespace, role.Name, err)
	}
	rb := registry.RoleBindingKind.New()
	rb.Namespace, rb.Name = bootstrap.ClusterInfoNamespace, ClusterInfoRole
	rb.RoleRef = rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: ClusterInfoRole}
	rb.Subjects = []rbac.Subject{{Kind: rbac.UserKind, APIGroup: rbac.GroupName, Name: AnonymousUser}}
	if _, err := rs.roleBindings.st.Create(ctx, rb); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("bootstrap policy: RoleBinding %s/%s: %w", rb.Namespace, rb.Name, err)
	}
	return nil
}
