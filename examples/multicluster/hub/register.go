package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/api/rbac"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// AgentServiceAccount is the service account of a registered child in its
// dedicated namespace; AgentRole is its Role there.
const (
	AgentServiceAccount = "agent"
	AgentRole           = "mcls-agent"
)

// requesterAnnotation records who asked the hub for a registration
// request: only they may read its answer through the hub.
const requesterAnnotation = "multicluster.setpoint.dev/requester"

// Errors of Approve and Deny.
var (
	// ErrNoRequest: no such ClusterRegistrationRequest in the parent.
	ErrNoRequest = errors.New("no such clusterregistrationrequest")
	// ErrDecided: the request was already decided the other way (a
	// denied request cannot be approved, nor an approved one denied:
	// Deregister the cluster instead).
	ErrDecided = errors.New("clusterregistrationrequest already decided")
)

// serveRegister takes an agent's ClusterRegistrationRequest: the caller
// (typically a bootstrap token that may do nothing else) needs "create"
// on clusterregistrationrequests in the parent. The hub creates the
// request in the parent, noting the requester, and under AutoApprove
// approves it at once; the same requester posting again gets the
// request's current state from the parent (that is how an agent waits for
// a human's approval); anyone else gets 409.
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
	ctx := r.Context()
	obj := &multicluster.ClusterRegistrationRequest{ObjectMeta: store.ObjectMeta{Name: req.Name,
		Annotations: map[string]string{requesterAnnotation: u.Name}}, Spec: req.Spec}
	h.handling(req.Name, true)
	cur, err := h.requests.Create(ctx, obj)
	created := err == nil
	switch {
	case created && h.cfg.AutoApprove:
		if approved, aerr := h.admit(ctx, cur); aerr != nil {
			h.log.Error("approving registration", "request", req.Name, "err", aerr)
			err = aerr
		} else {
			cur = approved
		}
	case errors.Is(err, store.ErrAlreadyExists):
		cur, err = h.requests.Get(ctx, "", req.Name)
		if err == nil && cur.Annotations[requesterAnnotation] != u.Name {
			h.handling(req.Name, false)
			writeStatus(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("clusterregistrationrequests %q already exists, made by another requester", req.Name))
			return
		}
		if err == nil && h.wantsAdmit(cur) { // say a hub stopped half-way
			cur, err = h.admit(ctx, cur)
		}
	}
	h.handling(req.Name, false)
	if err != nil {
		if created {
			h.requeue(req.Name) // the controller takes over
		}
		writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", fmt.Sprintf("clusterregistrationrequests %q: %v", req.Name, err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if created {
		w.WriteHeader(http.StatusCreated)
	}
	json.NewEncoder(w).Encode(cur)
}

// handling marks registration request name as being approved by
// serveRegister (on) or no longer (off), so that the controller leaves it
// alone meanwhile; either would be safe, but not both at once for nothing.
func (h *Hub) handling(name string, on bool) {
	h.regMu.Lock()
	defer h.regMu.Unlock()
	if on {
		h.inflight[name]++
		return
	}
	if h.inflight[name]--; h.inflight[name] <= 0 {
		delete(h.inflight, name)
	}
}

func (h *Hub) isHandling(name string) bool {
	h.regMu.Lock()
	defer h.regMu.Unlock()
	return h.inflight[name] > 0
}

// Approve admits the cluster of registration request name (see admit).
// Approving an approved request does nothing; a denied one is ErrDecided,
// an unknown one ErrNoRequest.
func (h *Hub) Approve(ctx context.Context, name string) error {
	cur, err := h.requests.Get(ctx, "", name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrNoRequest, name)
	}
	if err != nil {
		return fmt.Errorf("approving %s: %w", name, err)
	}
	if cur.Status.Result == multicluster.RegistrationDenied {
		return fmt.Errorf("%w: %q was denied: %s", ErrDecided, name, cur.Status.ErrorMessage)
	}
	_, err = h.admit(ctx, cur)
	return err
}

// Deny refuses registration request name, with reason as its status's
// errorMessage; the agent's Register then returns agent.ErrDenied.
// Denying a denied request does nothing; an approved one is ErrDecided,
// an unknown one ErrNoRequest. The write is conditional on the
// resourceVersion read, and retried on a conflict.
func (h *Hub) Deny(ctx context.Context, name, reason string) error {
	for {
		cur, err := h.requests.Get(ctx, "", name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNoRequest, name)
		}
		if err != nil {
			return fmt.Errorf("denying %s: %w", name, err)
		}
		switch cur.Status.Result {
		case multicluster.RegistrationDenied:
			return nil
		case multicluster.RegistrationApproved:
			return fmt.Errorf("%w: %q was approved: deregister the cluster instead", ErrDecided, name)
		}
		cur.Status = multicluster.ClusterRegistrationRequestStatus{Result: multicluster.RegistrationDenied, ErrorMessage: reason}
		if _, err = h.requests.UpdateStatus(ctx, cur); !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return fmt.Errorf("denying %s: %w", name, err)
			}
			return nil
		}
	}
}

// admit approves request cur, unless it is denied or already carries
// credentials: it provisions the cluster (provision) and publishes the
// agent's token in the request's status with one status write,
// conditional on cur's resourceVersion. Whoever loses that race (another
// hub, this hub's controller, a human's edit) re-reads the request and
// returns what the winner published: a cluster's request is given
// credentials once, and they never change (the loser's token, never
// published, merely lives out its expiry). It returns the request as
// stored.
func (h *Hub) admit(ctx context.Context, cur *multicluster.ClusterRegistrationRequest) (*multicluster.ClusterRegistrationRequest, error) {
	var token string
	for {
		switch {
		case cur.Status.Result == multicluster.RegistrationDenied:
			return cur, nil
		case cur.Status.Result == multicluster.RegistrationApproved && len(cur.Status.Token) > 0:
			return cur, nil
		}
		id := cur.Spec.ClusterID
		if token == "" {
			var err error
			if token, err = h.provision(ctx, id, cur.Spec.ClusterLabels); err != nil {
				return cur, err
			}
		}
		next := cur.DeepCopy()
		next.Status = multicluster.ClusterRegistrationRequestStatus{
			Result:             multicluster.RegistrationApproved,
			DedicatedNamespace: multicluster.ClusterNamespace(id),
			ManagedClusterName: id,
			ServiceAccountName: AgentServiceAccount,
			Token:              []byte(token),
			CACertificate:      h.caPEM,
		}
		out, err := h.requests.UpdateStatus(ctx, next)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return cur, fmt.Errorf("approving %s: %w", cur.Name, err)
		}
		h.metrics.lostApprovals.Inc()
		if cur, err = h.requests.Get(ctx, "", cur.Name); err != nil {
			return nil, fmt.Errorf("approving %s: %w", next.Name, err)
		}
	}
}

// Reconcile is the registration controller's step for one request: an
// approved request without credentials (a human's kubectl patch of its
// status) is admitted, and under AutoApprove so is an undecided one. It
// acts on the request as read from the parent, not the informer's
// possibly older copy.
func (r *registrar) Reconcile(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
	h := r.h
	cached, ok := h.reqInf.Get("", key.Name)
	if !ok || cached.DeletionTimestamp != nil || h.isHandling(key.Name) || !h.wantsAdmit(cached) {
		return reconcile.Result{}, nil
	}
	cur, err := h.requests.Get(ctx, "", key.Name)
	if errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if !h.wantsAdmit(cur) {
		return reconcile.Result{}, nil
	}
	_, err = h.admit(ctx, cur)
	return reconcile.Result{}, err
}

// registrar is the Reconciler of the hub's registration controller.
type registrar struct{ h *Hub }

func (h *Hub) wantsAdmit(c *multicluster.ClusterRegistrationRequest) bool {
	switch c.Status.Result {
	case multicluster.RegistrationApproved:
		return len(c.Status.Token) == 0
	case "", multicluster.RegistrationPending:
		return h.cfg.AutoApprove
	}
	return false
}

func (h *Hub) requeue(name string) { h.regCtrl.Queue().Add(reconcile.Request{Name: name}) }

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
	mcls := &multicluster.ManagedCluster{ObjectMeta: store.ObjectMeta{Name: id, Namespace: ns, Labels: labels,
		Finalizers: []string{multicluster.HubFinalizer}},
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
	answer, err := h.agentToken(ctx, id)
	if err != nil {
		return "", err
	}
	return answer.Status.Token, nil
}

// agentToken asks the parent for a new token of cluster id's service
// account, valid for AgentTokenExpiration (or what the parent caps it to).
func (h *Hub) agentToken(ctx context.Context, id string) (*authentication.TokenRequest, error) {
	p := h.parent
	secs := int64(h.cfg.AgentTokenExpiration / time.Second)
	tr := authentication.TokenRequest{Spec: authentication.TokenRequestSpec{ExpirationSeconds: &secs}}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	body, _ := json.Marshal(tr)
	req, err := http.NewRequestWithContext(ctx, "POST",
		fmt.Sprintf("%s/api/v1/namespaces/%s/serviceaccounts/%s/token", p.Server(), multicluster.ClusterNamespace(id), AgentServiceAccount), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var answer authentication.TokenRequest
	if err := do(p.HTTPClient(), req, &answer); err != nil {
		return nil, fmt.Errorf("cluster %s: token: %w", id, err)
	}
	return &answer, nil
}

// serveToken renews an agent's token: the caller must be the agent of the
// cluster (as for heartbeats, so with a token still valid), and gets a new
// one from the parent, for AgentTokenExpiration, as a TokenRequest. The
// old token stays valid until its own expiry.
func (h *Hub) serveToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !h.agentAllowed(w, r, id) {
		return
	}
	answer, err := h.agentToken(r.Context(), id)
	if err != nil {
		writeStatus(w, http.StatusBadGateway, "ServiceUnavailable", err.Error())
		return
	}
	answer.APIVersion, answer.Kind = "authentication.k8s.io/v1", "TokenRequest"
	h.metrics.renewals.Inc()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answer)
}

// Deregister removes cluster id: its service account (whose tokens the
// parent then refuses), its registration request, the agent's finalizer
// on the Descriptions in its namespace (the agent can no longer remove
// it, and it would hold the namespace's deletion forever), and its
// dedicated namespace with everything in it, releasing the hub's
// finalizer on its ManagedCluster last. Its credentials stop working at
// the hub once the hub's authentication cache forgets them
// (AuthCacheTTL). Deregistering a cluster that is gone does nothing.
//
// Deleting a cluster's ManagedCluster, or its dedicated namespace, in the
// parent (kubectl delete) has the same effect: the hub's finalizer holds
// the object until a running hub has deregistered the cluster.
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
	if err := gone(h.requests.DeleteNow(ctx, "", multicluster.RegistrationName(id))); err != nil {
		return fmt.Errorf("deregistering cluster %s: %w", id, err)
	}
	descs, err := h.descs.List(ctx, ns, store.ListOptions{})
	if err != nil {
		return fmt.Errorf("deregistering cluster %s: %w", id, err)
	}
	for _, d := range descs.Items {
		if !slices.Contains(d.Finalizers, multicluster.AgentFinalizer) {
			continue
		}
		_, err := h.descs.GuaranteedUpdate(ctx, ns, d.Name, func(x *multicluster.Description) (*multicluster.Description, error) {
			x.Finalizers = slices.DeleteFunc(x.Finalizers, func(f string) bool { return f == multicluster.AgentFinalizer })
			return x, nil
		})
		if err := gone(err); err != nil {
			return fmt.Errorf("deregistering cluster %s: releasing description %s: %w", id, d.Name, err)
		}
	}
	if err := gone(h.parent.Namespaces().DeleteNow(ctx, "", ns)); err != nil {
		return fmt.Errorf("deregistering cluster %s: %w", id, err)
	}
	h.reg.forget(id)
	_, err = h.managed.GuaranteedUpdate(ctx, ns, id, func(x *multicluster.ManagedCluster) (*multicluster.ManagedCluster, error) {
		if !slices.Contains(x.Finalizers, multicluster.HubFinalizer) {
			return nil, errUnchanged
		}
		x.Finalizers = slices.DeleteFunc(x.Finalizers, func(f string) bool { return f == multicluster.HubFinalizer })
		return x, nil
	})
	if err := gone(err); err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("deregistering cluster %s: releasing its managed cluster: %w", id, err)
	}
	return nil
}

// errUnchanged ends a GuaranteedUpdate that has nothing to write.
var errUnchanged = errors.New("unchanged")

// deregistrar is the Reconciler of the hub's ManagedCluster controller:
// a ManagedCluster being deleted that still holds HubFinalizer is
// deregistered (Deregister), whoever deleted it or its namespace.
type deregistrar struct{ h *Hub }

// Reconcile deregisters the cluster of a ManagedCluster being deleted.
// The cluster ID is the one its dedicated namespace is named for, which
// the hub chose at registration (a ManagedCluster in another namespace is
// not the hub's and is left alone).
func (r *deregistrar) Reconcile(ctx context.Context, key reconcile.Request) (reconcile.Result, error) {
	mc, ok := r.h.mcInf.Get(key.Namespace, key.Name)
	if !ok || mc.DeletionTimestamp == nil || !slices.Contains(mc.Finalizers, multicluster.HubFinalizer) ||
		key.Namespace != multicluster.ClusterNamespace(key.Name) {
		return reconcile.Result{}, nil
	}
	r.h.log.Info("managed cluster deleted: deregistering", "cluster", key.Name)
	return reconcile.Result{}, r.h.Deregister(ctx, key.Name)
}

// Registration returns registration request name as stored in the
// parent (an error wrapping store.ErrNotFound if there is none).
func (h *Hub) Registration(ctx context.Context, name string) (*multicluster.ClusterRegistrationRequest, error) {
	return h.requests.Get(ctx, "", name)
}
