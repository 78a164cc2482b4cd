package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/store"
)

// AgentServiceAccount is the service account of a registered child in its
// dedicated namespace; AgentRole is its Role there.
const (
	AgentServiceAccount = "agent"
	AgentRole           = "mcls-agent"
)

// requesterAnnotation records who created a registration request: only
// they may read its answer.
const requesterAnnotation = "multicluster.setpoint.dev/requester"

// serveRegister takes an agent's ClusterRegistrationRequest: the caller
// (typically a bootstrap token that may do nothing else) needs "create"
// on clusterregistrationrequests in the parent. The first request of a
// cluster ID is recorded and, under AutoApprove, approved at once; the
// same requester posting again gets the request's current state (that is
// how an agent waits for approval); anyone else gets 409.
func (h *Hub) serveRegister(w http.ResponseWriter, r *http.Request) {
	u, ok := h.authenticate(w, r)
	if !ok || !h.allowed(w, r, u, "create", "clusterregistrationrequests", "", "", "") {
		return
	}
	var req multicluster.ClusterRegistrationRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", "clusterregistrationrequest: "+err.Error())
		return
	}
	if req.Name == "" {
		req.Name = multicluster.RegistrationName(req.Spec.ClusterID)
	}
	req.Status = multicluster.ClusterRegistrationRequestStatus{}
	req.SetDefaults()
	if err := req.Validate(); err != nil {
		writeStatus(w, http.StatusUnprocessableEntity, "Invalid", err.Error())
		return
	}
	h.regMu.Lock()
	cur, exists := h.requests[req.Name]
	if exists && cur.Annotations[requesterAnnotation] != u.Name {
		h.regMu.Unlock()
		writeStatus(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("clusterregistrationrequests %q already exists, made by another requester", req.Name))
		return
	}
	if !exists {
		cur = &req
		cur.APIVersion, cur.Kind = multicluster.GroupVersion, "ClusterRegistrationRequest"
		cur.Annotations = map[string]string{requesterAnnotation: u.Name}
		cur.CreationTimestamp = store.NewTime(h.cfg.Clock.Now())
		cur.Status.Result = multicluster.RegistrationPending
		h.requests[req.Name] = cur
	}
	h.regMu.Unlock()
	if !exists && h.cfg.AutoApprove {
		if err := h.Approve(r.Context(), req.Name); err != nil {
			h.log.Error("approving registration", "request", req.Name, "err", err)
		}
	}
	h.regMu.Lock()
	out := cur.DeepCopy()
	h.regMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !exists {
		w.WriteHeader(http.StatusCreated)
	}
	json.NewEncoder(w).Encode(out)
}

// ErrNoRequest is returned by Approve for an unknown request.
var ErrNoRequest = errors.New("no such clusterregistrationrequest")

// Approve admits the cluster of registration request name: it creates
// the cluster's dedicated namespace, its service account and the Role and
// RoleBinding that let it act as the cluster's agent (update its
// ManagedCluster's status), and puts a token of that service account in
// the request's status. Approving an approved request does nothing.
func (h *Hub) Approve(ctx context.Context, name string) error {
	h.regMu.Lock()
	cur, ok := h.requests[name]
	if ok && cur.Status.Result == multicluster.RegistrationApproved {
		h.regMu.Unlock()
		return nil
	}
	var id string
	var labels map[string]string
	if ok {
		id, labels = cur.Spec.ClusterID, maps.Clone(cur.Spec.ClusterLabels)
	}
	h.regMu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoRequest, name)
	}
	token, err := h.provision(ctx, id, labels)
	h.regMu.Lock()
	defer h.regMu.Unlock()
	if err != nil {
		cur.Status.ErrorMessage = err.Error()
		return err
	}
	cur.Status = multicluster.ClusterRegistrationRequestStatus{
		Result:             multicluster.RegistrationApproved,
		DedicatedNamespace: multicluster.ClusterNamespace(id),
		ManagedClusterName: id,
		ServiceAccountName: AgentServiceAccount,
		Token:              []byte(token),
		CACertificate:      h.caPEM,
	}
	return nil
}

// provision creates the namespace, ManagedCluster (labelled with the
// cluster's labels), service account, Role and RoleBinding of cluster id
// (keeping any that exist) and returns a token of the service account.
func (h *Hub) provision(ctx context.Context, id string, labels map[string]string) (string, error) {
	ns := multicluster.ClusterNamespace(id)
	exists := func(err error) error {
		if errors.Is(err, store.ErrAlreadyExists) {
			return nil
		}
		return err
	}
	p := h.parent
	if _, err := p.Namespaces().Create(ctx, &api.Namespace{ObjectMeta: store.ObjectMeta{Name: ns,
		Labels: map[string]string{"multicluster.setpoint.dev/cluster-id": id}}}); exists(err) != nil {
		return "", fmt.Errorf("cluster %s: namespace: %w", id, err)
	}
	mcls := &multicluster.ManagedCluster{ObjectMeta: store.ObjectMeta{Name: id, Namespace: ns, Labels: labels},
		Spec: multicluster.ManagedClusterSpec{ClusterID: id}}
	if _, err := h.managed.Create(ctx, mcls); exists(err) != nil {
		return "", fmt.Errorf("cluster %s: managed cluster: %w", id, err)
	}
	if _, err := p.ServiceAccounts().Create(ctx, &api.ServiceAccount{ObjectMeta: store.ObjectMeta{Name: AgentServiceAccount, Namespace: ns}}); exists(err) != nil {
		return "", fmt.Errorf("cluster %s: service account: %w", id, err)
	}
	role := &rbac.Role{ObjectMeta: store.ObjectMeta{Name: AgentRole, Namespace: ns}, Rules: []rbac.PolicyRule{
		{APIGroups: []string{multicluster.GroupName}, Resources: []string{"managedclusters/status"}, Verbs: []string{"get", "update", "patch"}, ResourceNames: []string{id}},
		{APIGroups: []string{multicluster.GroupName}, Resources: []string{"descriptions", "descriptions/status"}, Verbs: []string{"get", "list", "watch", "update", "patch"}},
	}}
	if _, err := p.Roles().Create(ctx, role); exists(err) != nil {
		return "", fmt.Errorf("cluster %s: role: %w", id, err)
	}
	rb := &rbac.RoleBinding{ObjectMeta: store.ObjectMeta{Name: AgentRole, Namespace: ns},
		Subjects: []rbac.Subject{{Kind: "ServiceAccount", Name: AgentServiceAccount, Namespace: ns}},
		RoleRef:  rbac.RoleRef{APIGroup: rbac.GroupName, Kind: "Role", Name: AgentRole}}
	if _, err := p.RoleBindings().Create(ctx, rb); exists(err) != nil {
		return "", fmt.Errorf("cluster %s: role binding: %w", id, err)
	}
	secs := int64(h.cfg.AgentTokenExpiration / time.Second)
	tr := authentication.TokenRequest{Spec: authentication.TokenRequestSpec{ExpirationSeconds: &secs}}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	body, _ := json.Marshal(tr)
	req, err := http.NewRequestWithContext(ctx, "POST",
		fmt.Sprintf("%s/api/v1/namespaces/%s/serviceaccounts/%s/token", p.Server(), ns, AgentServiceAccount), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	var answer authentication.TokenRequest
	if err := do(p.HTTPClient(), req, &answer); err != nil {
		return "", fmt.Errorf("cluster %s: token: %w", id, err)
	}
	return answer.Status.Token, nil
}

// Deregister removes cluster id: its registration request, its service
// account (whose tokens the parent then refuses) and its dedicated
// namespace. Its credentials stop working at the hub once the hub's
// authentication cache forgets them (AuthCacheTTL).
func (h *Hub) Deregister(ctx context.Context, id string) error {
	ns := multicluster.ClusterNamespace(id)
	gone := func(err error) error {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := gone(h.parent.ServiceAccounts().DeleteNow(ctx, ns, AgentServiceAccount)); err != nil {
		return fmt.Errorf("deregistering cluster %s: %w", id, err)
	}
	if err := gone(h.parent.Namespaces().DeleteNow(ctx, "", ns)); err != nil {
		return fmt.Errorf("deregistering cluster %s: %w", id, err)
	}
	h.regMu.Lock()
	delete(h.requests, multicluster.RegistrationName(id))
	h.regMu.Unlock()
	h.reg.forget(id)
	return nil
}

// Registration returns registration request name as the hub holds it.
func (h *Hub) Registration(name string) (*multicluster.ClusterRegistrationRequest, bool) {
	h.regMu.Lock()
	defer h.regMu.Unlock()
	r, ok := h.requests[name]
	if !ok {
		return nil, false
	}
	return r.DeepCopy(), true
}
